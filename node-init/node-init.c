/*
 * node-init: PID 1 and process supervisor of an upgrade-harness node.
 *
 * A node is a long-lived container that plays the part of a host. Processes
 * are started and stopped inside it (through `docker exec`), and they must be
 * able to outlive the process that started them, exactly as executors outlive
 * a Mesos agent on a real host. That needs a PID 1 that reaps every orphan
 * (kill(pid, 0) succeeds on zombies, so a non-reaping PID 1 makes "is it
 * gone?" polls hang) and a way to find and signal one process by name,
 * because Docker can only signal a container's PID 1.
 *
 * One static binary, several modes:
 *   node-init [init]                      PID 1: reap, record exit statuses,
 *                                         forward SIGTERM on shutdown
 *   node-init start NAME [--env-file F] [--cwd DIR] -- ARGV...
 *   node-init signal NAME SIG [--group]
 *   node-init status NAME                 running <pid> | exited <status>
 *                                         | absent | lost <pid>
 *   node-init log NAME [OFFSET]           copy the log from OFFSET to stdout
 *   node-init sleep [--ignore-term] [SECONDS [EXIT]]
 *                                         a trivial long-running process
 *   node-init mkdir PATH...               mkdir -p (images may have no shell)
 *   node-init write PATH MODE < DATA      write a file atomically, parents created
 *   node-init cat PATH [OFFSET]           read a file (exit 4 if missing)
 *   node-init ready                       exit 0 once PID 1 has set up this boot
 *   node-init rm PATH...                  rm -rf, without following symlinks
 *
 * Files (the directories can be moved with NODE_INIT_RUN_DIR and
 * NODE_INIT_LOG_DIR, which is only useful for tests outside a container):
 *   /run/node/NAME.pid        pid of the supervised process
 *   /run/node/NAME.status     its raw wait status, decimal (written by PID 1)
 *   /var/log/node/NAME.log    its stdout and stderr, appended
 *
 * As PID 1 it also gives a FROM scratch image what a host has: /var/run as
 * a symlink to /run (when the image has no /var/run) and /tmp.
 *
 * Exit codes of the client modes: 0 ok, 1 system error, 2 usage error,
 * 3 process not running (signal), 4 no such file (log, cat), 5 already running.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <ftw.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EXIT_SYSTEM 1
#define EXIT_USAGE 2
#define EXIT_NOT_RUNNING 3
#define EXIT_NO_LOG 4
#define EXIT_ALREADY_RUNNING 5

static const char *run_dir = "/run/node";
static const char *log_dir = "/var/log/node";

static void die(int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("node-init: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(code);
}

static void setup_dirs_from_env(void) {
    const char *r = getenv("NODE_INIT_RUN_DIR");
    const char *l = getenv("NODE_INIT_LOG_DIR");
    if (r && *r) run_dir = r;
    if (l && *l) log_dir = l;
}

/* mkdir -p: the image may have neither /run nor /var/log. */
static int mkdir_p(const char *path) {
    char buf[PATH_MAX];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) return -1;
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -1;
    return 0;
}

static void ensure_dirs(void) {
    if (mkdir_p(run_dir) != 0) die(EXIT_SYSTEM, "cannot create %s: %s", run_dir, strerror(errno));
    if (mkdir_p(log_dir) != 0) die(EXIT_SYSTEM, "cannot create %s: %s", log_dir, strerror(errno));
}

/* Names become file names: keep them boring. */
static void check_name(const char *name) {
    size_t n = strlen(name);
    if (n == 0 || n > 64 || name[0] == '.' || name[0] == '-')
        die(EXIT_USAGE, "invalid process name '%s'", name);
    for (const char *p = name; *p; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-';
        if (!ok) die(EXIT_USAGE, "invalid process name '%s' (use [A-Za-z0-9._-])", name);
    }
}

static void path_of(char *out, size_t size, const char *dir, const char *name, const char *ext) {
    if ((size_t)snprintf(out, size, "%s/%s%s", dir, name, ext) >= size)
        die(EXIT_USAGE, "path too long for '%s'", name);
}

/* Reads a small file into buf (NUL-terminated, trailing newline cut). */
static int read_small(const char *path, char *buf, size_t size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, size - 1);
    close(fd);
    if (n < 0) return -1;
    buf[n] = 0;
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) buf[--n] = 0;
    return 0;
}

static int write_all(int fd, const void *data, size_t len) {
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Write to a temporary name and rename, so readers never see half a file. */
static int write_atomic(const char *path, const char *content) {
    char tmp[PATH_MAX];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >= sizeof tmp) return -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    int rc = write_all(fd, content, strlen(content));
    if (close(fd) != 0) rc = -1;
    if (rc == 0) rc = rename(tmp, path);
    if (rc != 0) unlink(tmp);
    return rc;
}

static pid_t read_pidfile(const char *name) {
    char path[PATH_MAX], buf[64];
    path_of(path, sizeof path, run_dir, name, ".pid");
    if (read_small(path, buf, sizeof buf) != 0) return 0;
    long v = strtol(buf, NULL, 10);
    return v > 0 ? (pid_t)v : 0;
}

static int status_file_exists(const char *name) {
    char path[PATH_MAX];
    path_of(path, sizeof path, run_dir, name, ".status");
    return access(path, F_OK) == 0;
}

/* ---------------------------------------------------------------- init -- */

/* When a supervised process is reaped, record its raw wait status. */
static void record_exit(pid_t pid, int status) {
    DIR *d = opendir(run_dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 4, ".pid") != 0) continue;
        char name[256];
        memcpy(name, e->d_name, n - 4);
        name[n - 4] = 0;
        if (read_pidfile(name) != pid) continue;
        char path[PATH_MAX], buf[32];
        path_of(path, sizeof path, run_dir, name, ".status");
        snprintf(buf, sizeof buf, "%d\n", status);
        write_atomic(path, buf);
        /* PID 1's stderr is the container log: a trail for post-mortems. */
        fprintf(stderr, "node-init: %s (pid %d) ended with wait status %d\n", name, (int)pid, status);
    }
    closedir(d);
}

/* Returns 1 when no children are left. */
static int reap_all(void) {
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid > 0) {
            record_exit(pid, status);
            continue;
        }
        if (pid < 0 && errno == EINTR) continue;
        return pid < 0 && errno == ECHILD;
    }
}

/* A fresh boot: runtime state of the previous boot is meaningless. */
static void clear_run_dir(void) {
    DIR *d = opendir(run_dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char path[PATH_MAX];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", run_dir, e->d_name) < sizeof path)
            unlink(path);
    }
    closedir(d);
}

static long grace_ms(void) {
    const char *g = getenv("NODE_INIT_GRACE_MS");
    long v = g ? strtol(g, NULL, 10) : 0;
    return v > 0 ? v : 3000;
}

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for SIGCHLD for at most ms, reaping; returns 1 once no child is left. */
static int reap_for(const sigset_t *set, long long until) {
    for (;;) {
        if (reap_all()) return 1;
        long long left = until - now_ms();
        if (left <= 0) return 0;
        struct timespec ts = {left / 1000, (left % 1000) * 1000000};
        sigtimedwait(set, NULL, &ts);
    }
}

/* SIGTERM to everything, a grace period, then SIGKILL: a clean host shutdown. */
static void shutdown_node(const sigset_t *set) {
    if (getpid() != 1) exit(0); /* never kill(-1) outside a PID namespace */
    fprintf(stderr, "node-init: shutting down: SIGTERM to every process\n");
    kill(-1, SIGTERM);
    if (!reap_for(set, now_ms() + grace_ms())) {
        fprintf(stderr, "node-init: grace period of %ld ms over: SIGKILL to the rest\n", grace_ms());
        kill(-1, SIGKILL);
        reap_for(set, now_ms() + 2000);
    }
    exit(0);
}

/* What a host's filesystem has and a FROM scratch image may lack: /var/run
 * pointing to /run (a tmpfs, so runtime state vanishes at reboot) and /tmp. */
static void host_layout(void) {
    struct stat st;
    if (lstat("/var/run", &st) != 0 && errno == ENOENT) {
        mkdir_p("/var");
        if (symlink("/run", "/var/run") != 0) perror("node-init: symlink /var/run");
    }
    if (lstat("/tmp", &st) != 0 && errno == ENOENT) {
        mkdir("/tmp", 01777);
        chmod("/tmp", 01777);
    }
}

__attribute__((noreturn)) static void cmd_init(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    if (getpid() == 1) host_layout();
    ensure_dirs();
    clear_run_dir();
    if (getpid() != 1) prctl(PR_SET_CHILD_SUBREAPER, 1);
    /* Clients wait for this before using the node (see `ready`). */
    char ready[PATH_MAX];
    path_of(ready, sizeof ready, run_dir, ".ready", "");
    write_atomic(ready, "1\n");
    fprintf(stderr, "node-init: up as pid %d\n", (int)getpid());
    for (;;) {
        int sig = sigwaitinfo(&set, NULL);
        if (sig == SIGCHLD) reap_all();
        else if (sig == SIGTERM || sig == SIGINT) shutdown_node(&set);
    }
}

/* --------------------------------------------------------------- start -- */

static int is_running(const char *name, pid_t *out) {
    pid_t pid = read_pidfile(name);
    if (out) *out = pid;
    if (pid <= 0 || status_file_exists(name)) return 0;
    return kill(pid, 0) == 0 || errno == EPERM;
}

static void load_env_file(const char *path) {
    FILE *f = fopen(path, "re");
    if (!f) die(EXIT_SYSTEM, "cannot open env file %s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int lineno = 0;
    while ((n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        if (n == 0 || line[0] == '#') continue;
        char *eq = strchr(line, '=');
        if (!eq || eq == line) die(EXIT_USAGE, "%s:%d: expected KEY=VALUE", path, lineno);
        *eq = 0;
        if (setenv(line, eq + 1, 1) != 0) die(EXIT_SYSTEM, "setenv %s: %s", line, strerror(errno));
    }
    free(line);
    fclose(f);
}

static void reset_signals(void) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int s = 1; s < NSIG; s++) signal(s, SIG_DFL);
}

/* Report from the grandchild: which step failed and errno. */
struct failure {
    int step; /* 1 chdir, 2 exec */
    int err;
};

/* The grandchild: waits until the pid file exists, then becomes ARGV. */
static void run_grandchild(int go_fd, int report_fd, int log_fd, const char *cwd, char **argv) {
    setsid();
    reset_signals();
    char byte;
    ssize_t got;
    while ((got = read(go_fd, &byte, 1)) < 0 && errno == EINTR) {}
    close(go_fd);
    if (got != 1) _exit(126); /* the starter died before writing the pid file */
    struct failure f = {0, 0};
    if (cwd && chdir(cwd) != 0) {
        f.step = 1;
        f.err = errno;
    } else {
        int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (devnull >= 0) dup2(devnull, 0); /* dup2 clears close-on-exec on fd 0 */
        dup2(log_fd, 1);
        dup2(log_fd, 2);
        execvp(argv[0], argv);
        f.step = 2;
        f.err = errno;
    }
    write_all(report_fd, &f, sizeof f);
    _exit(127);
}

static int cmd_start(int argc, char **argv) {
    if (argc < 1) die(EXIT_USAGE, "usage: start NAME [--env-file F] [--cwd DIR] -- ARGV...");
    const char *name = argv[0];
    const char *cwd = NULL;
    check_name(name);
    int i = 1;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        } else if (strcmp(argv[i], "--env-file") == 0 && i + 1 < argc) {
            load_env_file(argv[++i]);
        } else if (strcmp(argv[i], "--cwd") == 0 && i + 1 < argc) {
            cwd = argv[++i];
        } else {
            die(EXIT_USAGE, "start: unexpected argument '%s' (missing '--' before the command?)", argv[i]);
        }
    }
    if (i >= argc) die(EXIT_USAGE, "start %s: no command after '--'", name);
    char **cmd = argv + i;

    ensure_dirs();
    pid_t old;
    if (is_running(name, &old)) die(EXIT_ALREADY_RUNNING, "%s is already running as pid %d", name, (int)old);

    char pid_path[PATH_MAX], status_path[PATH_MAX], log_path[PATH_MAX];
    path_of(pid_path, sizeof pid_path, run_dir, name, ".pid");
    path_of(status_path, sizeof status_path, run_dir, name, ".status");
    path_of(log_path, sizeof log_path, log_dir, name, ".log");
    unlink(status_path);
    unlink(pid_path);

    int log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) die(EXIT_SYSTEM, "cannot open %s: %s", log_path, strerror(errno));

    int go[2], report[2];
    if (pipe2(go, O_CLOEXEC) != 0 || pipe2(report, O_CLOEXEC) != 0)
        die(EXIT_SYSTEM, "pipe: %s", strerror(errno));

    pid_t child = fork();
    if (child < 0) die(EXIT_SYSTEM, "fork: %s", strerror(errno));
    if (child == 0) {
        /* The middle process exists only so the grandchild is re-parented to PID 1. */
        close(go[1]);
        close(report[0]);
        pid_t grandchild = fork();
        if (grandchild == 0) run_grandchild(go[0], report[1], log_fd, cwd, cmd);
        write_all(report[1], &grandchild, sizeof grandchild);
        _exit(grandchild < 0 ? 1 : 0);
    }
    close(go[0]);
    close(report[1]);
    close(log_fd);

    int st;
    while (waitpid(child, &st, 0) < 0 && errno == EINTR) {}
    pid_t pid = -1;
    if (read(report[0], &pid, sizeof pid) != (ssize_t)sizeof pid || pid <= 0)
        die(EXIT_SYSTEM, "fork of %s failed", name);

    char buf[32];
    snprintf(buf, sizeof buf, "%d\n", (int)pid);
    if (write_atomic(pid_path, buf) != 0) {
        kill(pid, SIGKILL);
        die(EXIT_SYSTEM, "cannot write %s: %s", pid_path, strerror(errno));
    }
    write_all(go[1], "g", 1);
    close(go[1]);

    struct failure f;
    ssize_t n;
    while ((n = read(report[0], &f, sizeof f)) < 0 && errno == EINTR) {}
    if (n == (ssize_t)sizeof f) {
        die(EXIT_SYSTEM, "start %s: %s %s: %s", name, f.step == 1 ? "chdir" : "exec",
            f.step == 1 ? cwd : cmd[0], strerror(f.err));
    }
    printf("%d\n", (int)pid);
    return 0;
}

/* ------------------------------------------------- signal, status, log -- */

static const struct {
    const char *name;
    int sig;
} signals[] = {
    {"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"ABRT", SIGABRT},
    {"KILL", SIGKILL}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"PIPE", SIGPIPE},
    {"ALRM", SIGALRM}, {"TERM", SIGTERM}, {"CONT", SIGCONT}, {"STOP", SIGSTOP},
};

static int parse_signal(const char *s) {
    char *end;
    long v = strtol(s, &end, 10);
    if (*s && *end == 0) return (v > 0 && v < NSIG) ? (int)v : -1;
    if (strncmp(s, "SIG", 3) == 0) s += 3;
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
        if (strcasecmp(s, signals[i].name) == 0) return signals[i].sig;
    return -1;
}

static int cmd_signal(int argc, char **argv) {
    if (argc < 2) die(EXIT_USAGE, "usage: signal NAME SIG [--group]");
    const char *name = argv[0];
    check_name(name);
    int sig = parse_signal(argv[1]);
    if (sig < 0) die(EXIT_USAGE, "unknown signal '%s'", argv[1]);
    int group = argc > 2 && strcmp(argv[2], "--group") == 0;
    pid_t pid;
    if (!is_running(name, &pid)) die(EXIT_NOT_RUNNING, "%s is not running", name);
    if (kill(group ? -pid : pid, sig) != 0) {
        if (errno == ESRCH) die(EXIT_NOT_RUNNING, "%s is not running", name);
        die(EXIT_SYSTEM, "kill %d: %s", (int)pid, strerror(errno));
    }
    return 0;
}

static int cmd_status(int argc, char **argv) {
    if (argc < 1) die(EXIT_USAGE, "usage: status NAME");
    const char *name = argv[0];
    check_name(name);
    char status_path[PATH_MAX], buf[64];
    path_of(status_path, sizeof status_path, run_dir, name, ".status");
    pid_t pid = read_pidfile(name);
    /* PID 1 writes the status right after reaping: allow it a moment. */
    for (int attempt = 0; attempt < 40; attempt++) {
        if (read_small(status_path, buf, sizeof buf) == 0) {
            printf("exited %s\n", buf);
            return 0;
        }
        if (pid <= 0) {
            printf("absent\n");
            return 0;
        }
        if (kill(pid, 0) == 0 || errno == EPERM) {
            printf("running %d\n", (int)pid);
            return 0;
        }
        struct timespec ts = {0, 25 * 1000000};
        nanosleep(&ts, NULL);
    }
    printf("lost %d\n", (int)pid);
    return 0;
}

/* Waits until PID 1 has recorded NAME's exit (its status file), or `until` passes. */
static int wait_recorded(const char *name, long long until) {
    for (;;) {
        if (status_file_exists(name)) return 1;
        if (now_ms() >= until) return 0;
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
    }
}

/* stop NAME SIG GRACE_MS: signals NAME, waits up to GRACE_MS for it to be reaped, then
 * SIGKILLs it and waits up to 5 s more; prints its status as `status` does. All inside the
 * node: one `docker exec` instead of a signal and a poll from outside (each exec costs the
 * Docker daemon a process start, seconds when the host is loaded). */
static int cmd_stop(int argc, char **argv) {
    if (argc < 3) die(EXIT_USAGE, "usage: stop NAME SIG GRACE_MS");
    const char *name = argv[0];
    check_name(name);
    int sig = parse_signal(argv[1]);
    if (sig < 0) die(EXIT_USAGE, "unknown signal '%s'", argv[1]);
    char *end;
    long grace = strtol(argv[2], &end, 10);
    if (*argv[2] == 0 || *end != 0 || grace < 0) die(EXIT_USAGE, "bad GRACE_MS '%s'", argv[2]);
    pid_t pid;
    if (is_running(name, &pid)) {
        if (kill(pid, sig) == 0 && !wait_recorded(name, now_ms() + grace)) {
            kill(pid, SIGKILL);
            wait_recorded(name, now_ms() + 5000);
        }
    }
    char *status_argv[] = {(char *)name, NULL};
    return cmd_status(1, status_argv);
}

/* Copies path from offset to stdout; a missing file exits EXIT_NO_LOG. */
static int cat_from(const char *path, long long offset) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) die(errno == ENOENT ? EXIT_NO_LOG : EXIT_SYSTEM, "cannot open %s: %s", path, strerror(errno));
    if (offset > 0 && lseek(fd, (off_t)offset, SEEK_SET) < 0) die(EXIT_SYSTEM, "seek %s: %s", path, strerror(errno));
    char buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        if (write_all(1, buf, (size_t)n) != 0) die(EXIT_SYSTEM, "write: %s", strerror(errno));
    if (n < 0) die(EXIT_SYSTEM, "read %s: %s", path, strerror(errno));
    return 0;
}

static int cmd_log(int argc, char **argv) {
    if (argc < 1) die(EXIT_USAGE, "usage: log NAME [OFFSET]");
    const char *name = argv[0];
    check_name(name);
    char path[PATH_MAX];
    path_of(path, sizeof path, log_dir, name, ".log");
    return cat_from(path, argc > 1 ? strtoll(argv[1], NULL, 10) : 0);
}

/* Exit 0 once PID 1 has set the node up after this boot, 1 before. */
static int cmd_ready(void) {
    char ready[PATH_MAX];
    path_of(ready, sizeof ready, run_dir, ".ready", "");
    return access(ready, F_OK) == 0 ? 0 : 1;
}

static int cmd_cat(int argc, char **argv) {
    if (argc < 1) die(EXIT_USAGE, "usage: cat PATH [OFFSET]");
    return cat_from(argv[0], argc > 1 ? strtoll(argv[1], NULL, 10) : 0);
}

/* stdin -> PATH (parents created, replaced atomically, octal MODE). */
static int cmd_write(int argc, char **argv) {
    if (argc < 2) die(EXIT_USAGE, "usage: write PATH MODE < CONTENT");
    const char *path = argv[0];
    mode_t mode = (mode_t)strtol(argv[1], NULL, 8);
    char dir[PATH_MAX], tmp[PATH_MAX];
    if ((size_t)snprintf(dir, sizeof dir, "%s", path) >= sizeof dir) die(EXIT_USAGE, "path too long");
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = 0;
        if (mkdir_p(dir) != 0) die(EXIT_SYSTEM, "mkdir %s: %s", dir, strerror(errno));
    }
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >= sizeof tmp)
        die(EXIT_USAGE, "path too long");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) die(EXIT_SYSTEM, "create %s: %s", tmp, strerror(errno));
    char buf[65536];
    ssize_t n;
    while ((n = read(0, buf, sizeof buf)) > 0)
        if (write_all(fd, buf, (size_t)n) != 0) die(EXIT_SYSTEM, "write %s: %s", tmp, strerror(errno));
    if (n < 0 || fchmod(fd, mode) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        int err = errno;
        unlink(tmp);
        die(EXIT_SYSTEM, "write %s: %s", path, strerror(err));
    }
    return 0;
}

static int cmd_sleep(int argc, char **argv) {
    if (argc > 0 && strcmp(argv[0], "--ignore-term") == 0) {
        signal(SIGTERM, SIG_IGN);
        argc--;
        argv++;
    }
    printf("node-init sleep: pid %d\n", (int)getpid());
    fflush(stdout);
    if (argc < 1) {
        for (;;) pause();
    }
    double secs = strtod(argv[0], NULL);
    struct timespec ts = {(time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
    return argc > 1 ? atoi(argv[1]) : 0;
}

static int cmd_mkdir(int argc, char **argv) {
    for (int i = 0; i < argc; i++)
        if (mkdir_p(argv[i]) != 0) die(EXIT_SYSTEM, "mkdir %s: %s", argv[i], strerror(errno));
    return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)ftw;
    int rc = (flag == FTW_DP) ? rmdir(path) : unlink(path);
    if (rc != 0 && errno != ENOENT) die(EXIT_SYSTEM, "remove %s: %s", path, strerror(errno));
    return 0;
}

static int cmd_rm(int argc, char **argv) {
    for (int i = 0; i < argc; i++) {
        struct stat st;
        if (lstat(argv[i], &st) != 0) {
            if (errno == ENOENT) continue;
            die(EXIT_SYSTEM, "stat %s: %s", argv[i], strerror(errno));
        }
        if (strcmp(argv[i], "/") == 0) die(EXIT_USAGE, "refusing to remove /");
        if (nftw(argv[i], remove_entry, 32, FTW_DEPTH | FTW_PHYS) != 0)
            die(EXIT_SYSTEM, "remove %s: %s", argv[i], strerror(errno));
    }
    return 0;
}

int main(int argc, char **argv) {
    setup_dirs_from_env();
    if (argc < 2 || strcmp(argv[1], "init") == 0) cmd_init();
    const char *cmd = argv[1];
    argc -= 2;
    argv += 2;
    if (strcmp(cmd, "start") == 0) return cmd_start(argc, argv);
    if (strcmp(cmd, "signal") == 0) return cmd_signal(argc, argv);
    if (strcmp(cmd, "status") == 0) return cmd_status(argc, argv);
    if (strcmp(cmd, "stop") == 0) return cmd_stop(argc, argv);
    if (strcmp(cmd, "log") == 0) return cmd_log(argc, argv);
    if (strcmp(cmd, "sleep") == 0) return cmd_sleep(argc, argv);
    if (strcmp(cmd, "mkdir") == 0) return cmd_mkdir(argc, argv);
    if (strcmp(cmd, "rm") == 0) return cmd_rm(argc, argv);
    if (strcmp(cmd, "write") == 0) return cmd_write(argc, argv);
    if (strcmp(cmd, "cat") == 0) return cmd_cat(argc, argv);
    if (strcmp(cmd, "ready") == 0) return cmd_ready();
    die(EXIT_USAGE, "unknown mode '%s' (init, start, signal, stop, status, log, sleep, mkdir, rm, write, cat, ready)", cmd);
    return EXIT_USAGE;
}
