/* The command line as a user meets it: runs the kestrel binary from the
 * build tree (KESTREL overrides the path) and checks exit status and what
 * it prints. Mistakes must give exactly one line on stderr and status 1. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

static const char *kestrel(void)
{
    const char *k = getenv("KESTREL");
    return k ? k : "./kestrel";
}

typedef struct Result {
    int status;
    char out[8192], err[8192];
    int err_lines;
} Result;

static void slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
    buf[n] = 0;
    if (f)
        fclose(f);
}

/* args is a shell-quoted argument string. */
static void run(Result *r, const char *args)
{
    char cmd[2048];
    char outp[] = "/tmp/kestrel-cli-out-XXXXXX";
    char errp[] = "/tmp/kestrel-cli-err-XXXXXX";
    int fo = mkstemp(outp), fe = mkstemp(errp);
    assert_true(fo >= 0 && fe >= 0);
    snprintf(cmd, sizeof(cmd), "%s %s </dev/null >%s 2>%s", kestrel(), args,
             outp, errp);
    int st = system(cmd);
    assert_true(st != -1 && WIFEXITED(st));
    r->status = WEXITSTATUS(st);
    slurp(outp, r->out, sizeof(r->out));
    slurp(errp, r->err, sizeof(r->err));
    r->err_lines = 0;
    for (const char *p = r->err; *p; p++)
        r->err_lines += *p == '\n';
    unlink(outp);
    unlink(errp);
}

static void expect_error(const char *args, const char *needle)
{
    Result r;
    run(&r, args);
    if (r.status != 1 || r.err_lines != 1 || !strstr(r.err, needle) ||
        strncmp(r.err, "kestrel: ", 9))
        fail_msg("kestrel %s: status %d, stderr '%s' (want 1 line with '%s')",
                 args, r.status, r.err, needle);
}

static void test_version(void **state)
{
    Result r;
    run(&r, "-version");
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "Kestrel emulator version "));
    run(&r, "--version");
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "version"));
}

static void test_help(void **state)
{
    Result r;
    run(&r, "-h");
    assert_int_equal(r.status, 0);
    /* Every documented flag of the foundation issue is listed. */
    static const char *const flags[] = {
        "-m ", "-bios", "-kernel", "-initrd", "-append", "-hda", "-cdrom",
        "-drive", "-boot", "-serial", "-debugcon", "-display", "-nographic",
        "-no-reboot", "-accel", "-cpu", "-gdb", "-S ", "-d ", "-D ",
        "-monitor", "-netdev", "-device", "-snapshot", "-chardev",
        "-global", "-machine", "-nodefaults", "-rtc", "-screendump-at",
    };
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
        if (!strstr(r.out, flags[i]))
            fail_msg("-h does not mention %s", flags[i]);
    assert_string_equal(r.err, "");
}

static void test_unknown_and_bad(void **state)
{
    expect_error("-frobnicate", "unknown option '-frobnicate'");
    expect_error("--frobnicate", "unknown option");
    expect_error("stray", "not an option");
    expect_error("-m", "needs an argument");
    expect_error("-m lots", "-m lots");
    expect_error("-m 12X", "suffix");
    expect_error("-m 1", "at least");
    expect_error("-m 64G", "at most");
    expect_error("-accel kvm", "unknown accelerator");
    expect_error("-machine q35", "unknown machine");
    expect_error("-M pc,accel=hvf", "not supported");
    expect_error("-display gtk", "unknown display");
    expect_error("-serial bogus", "unknown character device");
    expect_error("-serial chardev:nope", "no -chardev with id 'nope'");
    expect_error("-d in_asm,bogus", "unknown log item 'bogus'");
    expect_error("-boot order=z", "bad boot device");
    expect_error("-cpu athlon-xp", "unknown CPU model");
    expect_error("-rtc base=yesterday", "bad base");
    expect_error("-kernel /nonexistent/vmlinuz", "No such file");
    expect_error("-device frobdev", "no such device");
    expect_error("-device isa-debugcon,iobase=zz", "needs a number");
    expect_error("-device isa-debugcon,colour=red", "no property 'colour'");
    expect_error("-device isa-debug-exit,iobase=0xffff,iosize=4", "outside");
    expect_error("-global isa-debugcon", "DEVICE.PROP=VALUE");
    expect_error("-global nodev.iobase=1", "no device 'nodev'");
    expect_error("-chardev file,id=x", "needs path=");
    expect_error("-chardev teletype,id=x", "unknown backend");
    expect_error("-chardev null,id=a -chardev null,id=a", "duplicate id");
    expect_error("-screendump-at soon", "SECONDS:FILE.png");
    expect_error("-smp 4", "only one CPU");
    expect_error("-chardev socket,id=s,port=99999,server=on,wait=off",
                 "1-65535");
    expect_error("-serial tcp::http,server=on,wait=off", "1-65535");
    expect_error("-rtc base=2020-13-01", "bad base");
    expect_error("-initrd x", "need -kernel");
    expect_error("-gdb udp::1234", "expected tcp::PORT");
}

/* Options whose subsystem is not there yet are refused by name. */
static void test_not_yet(void **state)
{
    /* Drives exist now: bad ones are refused with the reason. */
    expect_error("-hda /nonexistent/disk.img", "No such file");
    expect_error("-cdrom /nonexistent/x.iso", "No such file");
    expect_error("-drive file=x.img,if=scsi", "only if=ide");
    expect_error("-drive file=x.img,bogus=1", "unknown drive option");
    expect_error("-netdev user,id=n", "-netdev is not supported yet");
    expect_error("-nic user", "-nic is not supported yet");
}

static void test_listings(void **state)
{
    Result r;
    run(&r, "-device help");
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "name \"isa-debugcon\""));
    assert_non_null(strstr(r.out, "name \"isa-debug-exit\""));
    assert_non_null(strstr(r.out, "name \"pc-testdev\""));
    run(&r, "-device isa-debug-exit,help");
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "iobase=<uint32>"));
    assert_non_null(strstr(r.out, "default: 1281"));   /* 0x501 */
    assert_non_null(strstr(r.out, "iosize=<uint32>"));
    run(&r, "-device isa-debugcon,help");
    assert_non_null(strstr(r.out, "chardev=<str>"));
    assert_non_null(strstr(r.out, "default: 233"));    /* 0xe9 */
    run(&r, "-d help");
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "guest_errors"));
    run(&r, "-machine help");
    assert_non_null(strstr(r.out, "pc "));
    run(&r, "-accel help");
    assert_non_null(strstr(r.out, "interp"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_unknown_and_bad),
        cmocka_unit_test(test_not_yet),
        cmocka_unit_test(test_listings),
    };
    return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
