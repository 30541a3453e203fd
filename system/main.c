/* Kestrel's command line: QEMU's flags with QEMU's meanings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "system/machine.h"

static void usage(void)
{
    printf("usage: kestrel [options]\n"
           "  -version        print the version and exit\n"
           "  -h              print this help and exit\n");
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] == '-' && a[1] == '-')
            a++;
        if (!strcmp(a, "-version")) {
            printf("Kestrel emulator version %s (backend %s)\n",
                   KESTREL_VERSION, CONFIG_BACKEND);
            return 0;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "-help")) {
            usage();
            return 0;
        }
        fprintf(stderr, "kestrel: unknown option '%s'\n", argv[i]);
        return 1;
    }
    fprintf(stderr, "kestrel: no machine to run yet\n");
    return 1;
}
