/*
 * exectimer: run one program the way libcni does (fork/exec with the given
 * environment, stdin from a file, stdout/stderr to files) and report how long
 * it took from spawn to exit, measured with CLOCK_MONOTONIC, plus wait4 rusage.
 *
 *   exectimer [-n NETNS] [-i STDIN] [-o STDOUT] [-e STDERR] [-a START_NS] -- prog args...
 *
 * -n NETNS   enter this network namespace first, as `ip netns exec` does
 *            (setns, private mount namespace with / as slave, fresh /sys);
 *            the machine's own namespaces are never changed.
 * -a NS      wait until CLOCK_MONOTONIC reaches NS before spawning (a start
 *            barrier for parallel runs).
 * The program's environment is exectimer's own. Result on stdout, one line:
 *   ns=<elapsed> rc=<exit status or 128+signal> maxrss_kb=<..> start=<ns> end=<ns>
 *   utime_us=<..> stime_us=<..>
 * maxrss is the largest RSS of the program or any descendant it reaped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what) {
    fprintf(stderr, "exectimer: %s: %s\n", what, strerror(errno));
    exit(125);
}

static void enter_netns(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) die(path);
    if (setns(fd, CLONE_NEWNET) < 0) die("setns");
    close(fd);
    if (unshare(CLONE_NEWNS) < 0) die("unshare(CLONE_NEWNS)");
    /* Never let a mount change propagate back to the machine's namespace. */
    if (mount("", "/", "none", MS_SLAVE | MS_REC, NULL) < 0) die("mount --make-rslave /");
    if (umount2("/sys", MNT_DETACH) < 0 && errno != EINVAL) die("umount /sys");
    if (mount("sysfs", "/sys", "sysfs", 0, NULL) < 0) die("mount sysfs");
}

int main(int argc, char **argv) {
    const char *netns = NULL, *in = NULL, *out = NULL, *err = NULL;
    long long start_at = 0;
    int c;
    while ((c = getopt(argc, argv, "+n:i:o:e:a:")) != -1) {
        switch (c) {
        case 'n': netns = optarg; break;
        case 'i': in = optarg; break;
        case 'o': out = optarg; break;
        case 'e': err = optarg; break;
        case 'a': start_at = atoll(optarg); break;
        default:
            fprintf(stderr, "usage: exectimer [-n netns] [-i stdin] [-o stdout] [-e stderr] [-a start_ns] -- prog args...\n");
            return 125;
        }
    }
    if (optind >= argc) { fprintf(stderr, "exectimer: no program\n"); return 125; }
    if (netns) enter_netns(netns);

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, in ? in : "/dev/null", O_RDONLY, 0);
    if (out) posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (err) posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0644);

    if (start_at > 0) {
        struct timespec ts = { start_at / 1000000000LL, start_at % 1000000000LL };
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {}
    }
    pid_t pid;
    long long t0 = now_ns();
    int rc = posix_spawn(&pid, argv[optind], &fa, NULL, &argv[optind], environ);
    if (rc != 0) { errno = rc; die(argv[optind]); }
    int status;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) die("wait4");
    }
    long long t1 = now_ns();
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    printf("ns=%lld rc=%d maxrss_kb=%ld start=%lld end=%lld utime_us=%lld stime_us=%lld\n",
           t1 - t0, code, ru.ru_maxrss, t0, t1,
           (long long)ru.ru_utime.tv_sec * 1000000LL + ru.ru_utime.tv_usec,
           (long long)ru.ru_stime.tv_sec * 1000000LL + ru.ru_stime.tv_usec);
    return 0;
}
