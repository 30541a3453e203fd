/* A first unit test: the configuration the build was made with. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "config.h"

static void test_backend_named(void **state)
{
    (void)state;
    assert_true(strcmp(CONFIG_BACKEND, "x86_64") == 0 ||
                strcmp(CONFIG_BACKEND, "aarch64") == 0 ||
                strcmp(CONFIG_BACKEND, "interp") == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backend_named),
    };
    return cmocka_run_group_tests_name("smoke", tests, NULL, NULL);
}
