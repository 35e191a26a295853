/* An open-loop HTTP/1.1 load generator for bench/capacity.py (compiled there with gcc).

     loadgen PORT RATE SECONDS CONNECTIONS DRAIN_S REQUEST_FILE

   REQUEST_FILE holds pre-rendered requests, each as a 4-byte little-endian length and the
   raw bytes; request n is sent at start + n / RATE (the file is cycled when shorter than
   RATE * SECONDS), whatever the server does: the schedule never waits for an answer. A
   request goes out on an idle keep-alive connection (one request in flight per
   connection); when every connection is busy it waits, and its latency still counts from
   its *scheduled* time, so a server that falls behind shows its queue (no coordinated
   omission). The run is bounded: DRAIN_S after the last scheduled send, whatever is
   unanswered is counted as timed out, with the latency it had reached by then.

   One line of JSON on stdout: sent, answered, errors (connection failures), timeouts,
   statuses, p50/p95/p99/max latency in ms, the wall time, this process's own CPU
   seconds (user + system), which say whether the generator could have been the limit,
   and the start of the first 5xx answer's body ("failure"), which says what failed.
   Loopback only: it connects to 127.0.0.1. */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    const char *data;
    uint32_t len;
} request_t;

typedef struct {
    int fd;
    int busy;          /* a request is in flight */
    long index;        /* which scheduled request */
    uint32_t written;  /* bytes of it written so far */
    char *buf;
    size_t used, cap;
} conn_t;

static int port;
static double rate, seconds, drain_s;
static request_t *requests;
static long nrequests, total, next_due, next_send, answered, errors, timeouts;
static double start_s, *latency_ms;
static long statuses[600];
static int epfd;
static char failure[301]; /* the start of the first 5xx answer, to say what went wrong */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double due_s(long n) { return start_s + (double)n / rate; }

static void die(const char *what) {
    perror(what);
    exit(2);
}

static void load_requests(const char *path) {
    FILE *file = fopen(path, "rb");
    if (!file) die(path);
    fseek(file, 0, SEEK_END);
    long size = ftell(file);
    fseek(file, 0, SEEK_SET);
    char *data = malloc((size_t)size + 1);
    if (!data || fread(data, 1, (size_t)size, file) != (size_t)size) die("read requests");
    fclose(file);
    long cap = 1024;
    requests = malloc(sizeof(request_t) * (size_t)cap);
    for (long at = 0; at + 4 <= size;) {
        uint32_t len = (uint32_t)(unsigned char)data[at] | (uint32_t)(unsigned char)data[at + 1] << 8 |
                       (uint32_t)(unsigned char)data[at + 2] << 16 | (uint32_t)(unsigned char)data[at + 3] << 24;
        at += 4;
        if (at + (long)len > size) break;
        if (nrequests == cap) requests = realloc(requests, sizeof(request_t) * (size_t)(cap *= 2));
        requests[nrequests].data = data + at;
        requests[nrequests++].len = len;
        at += len;
    }
    if (nrequests == 0) {
        fprintf(stderr, "no request in %s\n", path);
        exit(2);
    }
}

static int open_connection(void) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) die("socket");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0 && errno != EINPROGRESS) die("connect");
    return fd;
}

static void watch(conn_t *c, uint32_t events, int op) {
    struct epoll_event ev = {.events = events, .data.ptr = c};
    if (epoll_ctl(epfd, op, c->fd, &ev) < 0) die("epoll_ctl");
}

static void reconnect(conn_t *c) {
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = open_connection();
    c->busy = 0;
    c->used = 0;
    watch(c, EPOLLIN, EPOLL_CTL_ADD);
}

static void keep_failure(const char *buf, size_t len) {
    size_t n = 0;
    for (size_t i = 0; i < len && n < sizeof failure - 1; i++) /* JSON-safe characters only */
        failure[n++] = (buf[i] >= 32 && buf[i] < 127 && buf[i] != '"' && buf[i] != '\\') ? buf[i] : ' ';
    failure[n] = 0;
}

static void finish(conn_t *c, int status) {
    if (status >= 500 && !failure[0]) {
        const char *body = memmem(c->buf, c->used, "\r\n\r\n", 4);
        if (body) keep_failure(body + 4, c->used - (size_t)(body + 4 - c->buf));
    }
    latency_ms[answered++] = (now_s() - due_s(c->index)) * 1000.0;
    statuses[status > 0 && status < 600 ? status : 0]++;
    c->busy = 0;
}

static void fail(conn_t *c) {
    if (c->busy) errors++;
    reconnect(c);
}

static void push(conn_t *c) {
    const request_t *r = &requests[c->index % nrequests];
    while (c->written < r->len) {
        ssize_t n = write(c->fd, r->data + c->written, r->len - c->written);
        if (n < 0) {
            if (errno == EAGAIN) {
                watch(c, EPOLLIN | EPOLLOUT, EPOLL_CTL_MOD);
                return;
            }
            fail(c);
            return;
        }
        c->written += (uint32_t)n;
    }
    watch(c, EPOLLIN, EPOLL_CTL_MOD);
}

static void send_next(conn_t *c) {
    c->busy = 1;
    c->index = next_send++;
    c->written = 0;
    c->used = 0;
    push(c);
}

/* Length of a complete response at the start of the buffer, or 0 while incomplete. */
static size_t complete(const char *buf, size_t used, int *status) {
    const char *end = memmem(buf, used, "\r\n\r\n", 4);
    if (!end) return 0;
    size_t head = (size_t)(end - buf) + 4;
    *status = used > 12 ? atoi(buf + 9) : 0;
    long length = -1;
    int chunked = 0;
    for (const char *line = buf; line < end;) {
        const char *eol = memmem(line, (size_t)(end - line) + 2, "\r\n", 2);
        if (!eol) break;
        if (strncasecmp(line, "content-length:", 15) == 0) length = atol(line + 15);
        if (strncasecmp(line, "transfer-encoding:", 18) == 0 && memmem(line, (size_t)(eol - line), "chunked", 7))
            chunked = 1;
        line = eol + 2;
    }
    if (chunked) {
        const char *last = memmem(buf + head, used - head, "0\r\n\r\n", 5);
        return last ? (size_t)(last - buf) + 5 : 0;
    }
    if (length < 0) length = 0;
    return used >= head + (size_t)length ? head + (size_t)length : 0;
}

static void receive(conn_t *c) {
    for (;;) {
        if (c->cap - c->used < 4096) c->buf = realloc(c->buf, c->cap *= 2);
        ssize_t n = read(c->fd, c->buf + c->used, c->cap - c->used);
        if (n == 0) {
            fail(c);
            return;
        }
        if (n < 0) {
            if (errno != EAGAIN) fail(c);
            return;
        }
        c->used += (size_t)n;
        int status = 0;
        if (c->busy && complete(c->buf, c->used, &status)) {
            finish(c, status);
            return;
        }
    }
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double percentile(const double *sorted, long n, double q) {
    if (n == 0) return 0.0;
    long at = (long)(q / 100.0 * (double)(n - 1) + 0.5);
    return sorted[at < n ? at : n - 1];
}

int main(int argc, char **argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: loadgen PORT RATE SECONDS CONNECTIONS DRAIN_S REQUEST_FILE\n");
        return 2;
    }
    port = atoi(argv[1]);
    rate = atof(argv[2]);
    seconds = atof(argv[3]);
    int nconn = atoi(argv[4]);
    drain_s = atof(argv[5]);
    load_requests(argv[6]);
    total = (long)(rate * seconds + 0.5);
    latency_ms = malloc(sizeof(double) * (size_t)(total + 1));
    epfd = epoll_create1(0);
    conn_t *conns = calloc((size_t)nconn, sizeof(conn_t));
    for (int i = 0; i < nconn; i++) {
        conns[i].fd = open_connection();
        conns[i].buf = malloc(conns[i].cap = 65536);
        watch(&conns[i], EPOLLIN, EPOLL_CTL_ADD);
    }
    int timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    struct epoll_event tev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(epfd, EPOLL_CTL_ADD, timer, &tev);
    usleep(100000); /* let the connections be accepted before the clock starts */
    start_s = now_s();
    double deadline = due_s(total) + drain_s;
    struct epoll_event events[256];
    while (answered + errors < total) {
        double now = now_s();
        if (now >= deadline) break;
        while (next_due < total && due_s(next_due) <= now) next_due++;
        for (int i = 0; i < nconn && next_send < next_due; i++)
            if (!conns[i].busy) send_next(&conns[i]);
        double wake = next_due < total ? due_s(next_due) : deadline;
        struct itimerspec at = {0};
        at.it_value.tv_sec = (time_t)wake;
        at.it_value.tv_nsec = (long)((wake - (double)(time_t)wake) * 1e9);
        timerfd_settime(timer, TFD_TIMER_ABSTIME, &at, NULL);
        int ready = epoll_wait(epfd, events, 256, -1);
        for (int i = 0; i < ready; i++) {
            conn_t *c = events[i].data.ptr;
            if (!c) {
                uint64_t ticks;
                if (read(timer, &ticks, sizeof ticks) < 0 && errno != EAGAIN) die("timerfd");
                continue;
            }
            if (events[i].events & (EPOLLERR | EPOLLHUP)) {
                fail(c);
                continue;
            }
            if (events[i].events & EPOLLOUT && c->busy) push(c);
            if (events[i].events & EPOLLIN) receive(c);
        }
    }
    double end = now_s();
    /* Whatever is unanswered at the deadline timed out, at the latency it had reached. */
    for (int i = 0; i < nconn; i++)
        if (conns[i].busy) latency_ms[answered + timeouts++] = (end - due_s(conns[i].index)) * 1000.0;
    for (long n = next_send; n < total; n++) latency_ms[answered + timeouts++] = (end - due_s(n)) * 1000.0;
    long counted = answered + timeouts;
    qsort(latency_ms, (size_t)counted, sizeof(double), by_value);
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    double cpu = (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6 +
                 (double)usage.ru_stime.tv_sec + (double)usage.ru_stime.tv_usec / 1e6;
    printf("{\"sent\": %ld, \"answered\": %ld, \"errors\": %ld, \"timeouts\": %ld, \"statuses\": {", next_send,
           answered, errors, timeouts);
    int first = 1;
    for (int s = 0; s < 600; s++)
        if (statuses[s]) {
            printf("%s\"%d\": %ld", first ? "" : ", ", s, statuses[s]);
            first = 0;
        }
    printf("}, \"p50\": %.3f, \"p95\": %.3f, \"p99\": %.3f, \"max\": %.3f, \"seconds\": %.3f, \"cpu_s\": %.3f, "
           "\"failure\": \"%s\"}\n",
           percentile(latency_ms, counted, 50), percentile(latency_ms, counted, 95),
           percentile(latency_ms, counted, 99), counted ? latency_ms[counted - 1] : 0.0, end - start_s, cpu, failure);
    return 0;
}
