/*
 * loadgen: a small closed-loop HTTP/1.1 load generator for Unix-domain sockets.
 *
 *   gcc -O2 -Wall -Wextra -Werror -o loadgen bench/loadgen.c   (-pthread is implied by glibc >= 2.34)
 *
 *   loadgen --socket PATH --path /v1/health --connections N --duration SECONDS
 *           [--warmup SECONDS] [--threads T] [--timeout SECONDS] [--busy-poll] [--json]
 *
 *   --timeout    per-request timeout (default 5 s); a timeout counts as an error and reconnects
 *   --busy-poll  epoll_wait with a zero timeout (spins a core; avoids idle-state wake-up latency)
 *
 * Each connection is keep-alive and has exactly one request in flight:
 *   GET PATH HTTP/1.1\r\nHost: localhost\r\n\r\n
 * The response is parsed (status line, headers, Content-Length / chunked / read-until-close
 * body) and its latency (first byte written -> last byte read) is recorded into a fixed
 * log-linear histogram (no allocation per request). One epoll loop per thread, non-blocking
 * sockets, connections spread round-robin over threads.
 *
 * Only requests that complete inside the measurement window [warmup, warmup+duration) are
 * counted; the process always ends at warmup+duration (plus a hard watchdog).
 *
 * errors = failed connects + resets/IO errors + EOF before a complete response
 *        + malformed responses + per-request timeouts. After any error the connection is
 *        closed and re-established. A server closing after `Connection: close` (or an
 *        HTTP/1.0 / read-until-close response) is a clean reconnect, not an error.
 * Exit status: 0 if at least one request completed in the window, 1 otherwise, 2 on usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define BUFSZ 16384        /* per-connection read buffer; response headers must fit */
#define MAXEV 256
#define REQ_MAX 2048

/* ---------------------------------------------------------------- histogram --- */
/* Log-linear: values < 2*HALF are exact (ns); above, each power of two is split into HALF
 * linear sub-buckets (relative error < 1/HALF = 0.8%). Values are clamped to 2^MAXBIT-1 ns. */
#define SUB_BITS 7
#define HALF (1u << SUB_BITS)                    /* 128 */
#define MAXBIT 40                                /* ~18 minutes in ns */
#define NBUCKETS ((MAXBIT - SUB_BITS) * HALF + 2 * HALF)

typedef struct {
    uint64_t b[NBUCKETS];
    uint64_t count, sum, max;
} hist_t;

static inline unsigned hist_index(uint64_t v) {
    if (v >= (1ull << MAXBIT)) v = (1ull << MAXBIT) - 1;
    if (v < 2 * HALF) return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = msb - SUB_BITS;
    return shift * HALF + (unsigned)(v >> shift);
}

/* midpoint of a bucket's value range */
static double hist_value(unsigned idx) {
    if (idx < 2 * HALF) return (double)idx;
    unsigned shift = idx / HALF - 1;
    uint64_t m = idx - shift * HALF;
    uint64_t lo = m << shift, hi = ((m + 1) << shift) - 1;
    return ((double)lo + (double)hi) / 2.0;
}

static inline void hist_record(hist_t *h, uint64_t v) {
    h->b[hist_index(v)]++;
    h->count++;
    h->sum += v;
    if (v > h->max) h->max = v;
}

static void hist_merge(hist_t *dst, const hist_t *src) {
    for (unsigned i = 0; i < NBUCKETS; i++) dst->b[i] += src->b[i];
    dst->count += src->count;
    dst->sum += src->sum;
    if (src->max > dst->max) dst->max = src->max;
}

/* value (ns) at quantile q in [0,1] */
static double hist_quantile(const hist_t *h, double q) {
    if (h->count == 0) return 0.0;
    uint64_t rank = (uint64_t)(q * (double)h->count + 0.5);
    if (rank < 1) rank = 1;
    if (rank > h->count) rank = h->count;
    uint64_t seen = 0;
    for (unsigned i = 0; i < NBUCKETS; i++) {
        seen += h->b[i];
        if (seen >= rank) {
            double v = hist_value(i);
            return v > (double)h->max ? (double)h->max : v;
        }
    }
    return (double)h->max;
}

/* ------------------------------------------------------------------ globals --- */
static struct sockaddr_un g_addr;
static socklen_t g_addrlen;
static char g_req[REQ_MAX];
static size_t g_reqlen;
static uint64_t g_t_measure; /* start of measurement window (ns, CLOCK_MONOTONIC) */
static uint64_t g_t_end;     /* end of run */
static uint64_t g_timeout_ns;
static int g_busy_poll;

static inline uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* --------------------------------------------------------------- connection --- */
enum { ST_WAIT, ST_CONNECTING, ST_WRITING, ST_READING };
enum { P_HEAD, P_BODY_CL, P_CHUNK_SIZE, P_CHUNK_DATA, P_CHUNK_CRLF, P_TRAILER, P_UNTIL_CLOSE };
enum { R_NEED = 0, R_DONE = 1, R_ERR = -1 };

typedef struct {
    int fd;
    int state;
    int pstate;
    int status;
    int keepalive;      /* connection may be reused after this response */
    int got_bytes;      /* any byte of the current response seen */
    uint64_t remaining; /* body / chunk bytes still to come */
    uint64_t t_start;   /* request start (ns) */
    uint64_t retry_at;  /* for ST_WAIT */
    uint64_t served;    /* responses completed on this fd */
    int ever_connected;
    size_t woff;
    size_t rpos, rlen;
    char buf[BUFSZ];
} conn_t;

typedef struct {
    int id;
    int ep;
    int nconns;
    conn_t *conns;
    hist_t hist;
    uint64_t non2xx;
    uint64_t err_connect, err_io, err_eof, err_parse, err_timeout;
    uint64_t reconnects;
    pthread_t tid;
} worker_t;

static inline int in_window(uint64_t t) { return t >= g_t_measure && t < g_t_end; }

static void conn_close(conn_t *c) {
    if (c->fd >= 0) close(c->fd); /* also removes it from the epoll set */
    c->fd = -1;
}

static void schedule_connect(conn_t *c, uint64_t at) {
    conn_close(c);
    c->state = ST_WAIT;
    c->retry_at = at;
}

static void count_error(worker_t *w, uint64_t *ctr, uint64_t now) {
    if (in_window(now)) (*ctr)++;
    (void)w;
}

static void fail(worker_t *w, conn_t *c, uint64_t *ctr, uint64_t now) {
    count_error(w, ctr, now);
    schedule_connect(c, now); /* reconnect right away */
}

static void reset_parser(conn_t *c) {
    c->pstate = P_HEAD;
    c->status = 0;
    c->keepalive = 1;
    c->got_bytes = 0;
    c->remaining = 0;
    c->rpos = c->rlen = 0;
}

static void send_request(worker_t *w, conn_t *c, uint64_t now);

static void start_connect(worker_t *w, conn_t *c, uint64_t now) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        count_error(w, &w->err_connect, now);
        c->state = ST_WAIT;
        c->retry_at = now + 10000000ull;
        return;
    }
    c->fd = fd;
    if (c->ever_connected) w->reconnects += in_window(now);
    int rc = connect(fd, (struct sockaddr *)&g_addr, g_addrlen);
    if (rc == 0) {
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
            count_error(w, &w->err_connect, now);
            schedule_connect(c, now + 10000000ull);
            return;
        }
        c->ever_connected = 1;
        c->served = 0;
        send_request(w, c, now);
        return;
    }
    if (errno == EINPROGRESS) { /* not used by Linux for AF_UNIX, but be correct */
        struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
        if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
            count_error(w, &w->err_connect, now);
            schedule_connect(c, now + 10000000ull);
            return;
        }
        c->state = ST_CONNECTING;
        c->t_start = now;
        return;
    }
    if (errno == EAGAIN) { /* listen backlog full: not an error, retry shortly */
        schedule_connect(c, now + 1000000ull);
        return;
    }
    /* ENOENT, ECONNREFUSED, ...: server not there */
    count_error(w, &w->err_connect, now);
    schedule_connect(c, now + 10000000ull);
}

static void want_events(worker_t *w, conn_t *c, uint32_t events) {
    struct epoll_event ev = {.events = events, .data.ptr = c};
    epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void send_request(worker_t *w, conn_t *c, uint64_t now) {
    reset_parser(c);
    c->woff = 0;
    c->t_start = now;
    ssize_t n = send(c->fd, g_req, g_reqlen, MSG_NOSIGNAL);
    if (n == (ssize_t)g_reqlen) {
        c->state = ST_READING;
        return;
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        fail(w, c, &w->err_io, now);
        return;
    }
    c->woff = n > 0 ? (size_t)n : 0;
    c->state = ST_WRITING;
    want_events(w, c, EPOLLIN | EPOLLOUT);
}

static void continue_write(worker_t *w, conn_t *c, uint64_t now) {
    ssize_t n = send(c->fd, g_req + c->woff, g_reqlen - c->woff, MSG_NOSIGNAL);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        fail(w, c, &w->err_io, now);
        return;
    }
    c->woff += (size_t)n;
    if (c->woff == g_reqlen) {
        c->state = ST_READING;
        want_events(w, c, EPOLLIN);
    }
}

/* ------------------------------------------------------------------- parser --- */
static int has_token(const char *v, size_t len, const char *tok) {
    /* comma-separated, case-insensitive token search */
    size_t tl = strlen(tok);
    size_t i = 0;
    while (i < len) {
        while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ',')) i++;
        size_t s = i;
        while (i < len && v[i] != ',') i++;
        size_t e = i;
        while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t')) e--;
        if (e - s == tl && strncasecmp(v + s, tok, tl) == 0) return 1;
    }
    return 0;
}

static void compact(conn_t *c) {
    if (c->rpos == c->rlen) {
        c->rpos = c->rlen = 0;
    } else if (c->rpos > 0) {
        memmove(c->buf, c->buf + c->rpos, c->rlen - c->rpos);
        c->rlen -= c->rpos;
        c->rpos = 0;
    }
}

/* parses the header block buf[rpos, hend) (hend points past the blank line) */
static int parse_head(conn_t *c, const char *p, const char *hend) {
    /* status line: HTTP/1.x SSS reason */
    const char *eol = memmem(p, (size_t)(hend - p), "\r\n", 2);
    if (!eol || eol - p < 12 || memcmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ') return R_ERR;
    int minor = p[7] - '0';
    if (p[9] < '0' || p[9] > '9' || p[10] < '0' || p[10] > '9' || p[11] < '0' || p[11] > '9') return R_ERR;
    c->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    int keepalive = minor >= 1;
    int chunked = 0, have_cl = 0;
    uint64_t cl = 0;
    const char *line = eol + 2;
    while (line < hend - 2) {
        const char *le = memmem(line, (size_t)(hend - line), "\r\n", 2);
        if (!le) return R_ERR;
        const char *colon = memchr(line, ':', (size_t)(le - line));
        if (colon) {
            size_t nl = (size_t)(colon - line);
            const char *v = colon + 1;
            while (v < le && (*v == ' ' || *v == '\t')) v++;
            size_t vl = (size_t)(le - v);
            if (nl == 14 && strncasecmp(line, "content-length", 14) == 0) {
                uint64_t x = 0;
                size_t i = 0;
                for (; i < vl && v[i] >= '0' && v[i] <= '9'; i++) {
                    if (x > (UINT64_MAX - 9) / 10) return R_ERR;
                    x = x * 10 + (uint64_t)(v[i] - '0');
                }
                if (i == 0) return R_ERR;
                if (have_cl && x != cl) return R_ERR;
                cl = x;
                have_cl = 1;
            } else if (nl == 17 && strncasecmp(line, "transfer-encoding", 17) == 0) {
                if (has_token(v, vl, "chunked")) chunked = 1;
            } else if (nl == 10 && strncasecmp(line, "connection", 10) == 0) {
                if (has_token(v, vl, "close")) keepalive = 0;
                else if (has_token(v, vl, "keep-alive")) keepalive = 1;
            }
        }
        line = le + 2;
    }
    c->keepalive = keepalive;
    if (c->status >= 100 && c->status < 200) return R_NEED; /* interim; caller restarts */
    if (c->status == 204 || c->status == 304) { c->pstate = -1; return R_DONE; }
    if (chunked) { c->pstate = P_CHUNK_SIZE; return R_NEED; }
    if (have_cl) {
        if (cl == 0) { c->pstate = -1; return R_DONE; }
        c->remaining = cl;
        c->pstate = P_BODY_CL;
        return R_NEED;
    }
    c->pstate = P_UNTIL_CLOSE;
    c->keepalive = 0;
    return R_NEED;
}

/* consume as much of buf[rpos, rlen) as possible */
static int parse(conn_t *c) {
    for (;;) {
        size_t avail = c->rlen - c->rpos;
        char *p = c->buf + c->rpos;
        switch (c->pstate) {
        case P_HEAD: {
            char *e = avail >= 4 ? memmem(p, avail, "\r\n\r\n", 4) : NULL;
            if (!e) {
                compact(c);
                return c->rlen == BUFSZ ? R_ERR : R_NEED; /* headers too large */
            }
            char *hend = e + 4;
            int r = parse_head(c, p, hend);
            c->rpos += (size_t)(hend - p);
            if (r == R_ERR) return R_ERR;
            if (c->status >= 100 && c->status < 200) {
                if (c->status == 101) return R_ERR; /* no upgrades here */
                c->pstate = P_HEAD;
                continue;
            }
            if (r == R_DONE) return R_DONE;
            continue;
        }
        case P_BODY_CL:
        case P_CHUNK_DATA: {
            uint64_t take = avail < c->remaining ? avail : c->remaining;
            c->rpos += (size_t)take;
            c->remaining -= take;
            if (c->remaining > 0) {
                c->rpos = c->rlen = 0; /* all consumed; body bytes are discarded */
                return R_NEED;
            }
            if (c->pstate == P_BODY_CL) return R_DONE;
            c->pstate = P_CHUNK_CRLF;
            continue;
        }
        case P_CHUNK_CRLF: {
            if (avail < 2) { compact(c); return R_NEED; }
            if (p[0] != '\r' || p[1] != '\n') return R_ERR;
            c->rpos += 2;
            c->pstate = P_CHUNK_SIZE;
            continue;
        }
        case P_CHUNK_SIZE:
        case P_TRAILER: {
            char *nl = memchr(p, '\n', avail);
            if (!nl) {
                compact(c);
                return c->rlen == BUFSZ ? R_ERR : R_NEED;
            }
            size_t ll = (size_t)(nl - p); /* line length without '\n' */
            if (ll == 0 || p[ll - 1] != '\r') return R_ERR;
            ll--;
            c->rpos += (size_t)(nl - p) + 1;
            if (c->pstate == P_TRAILER) {
                if (ll == 0) return R_DONE; /* end of trailers */
                continue;
            }
            uint64_t sz = 0;
            size_t i = 0;
            for (; i < ll; i++) {
                char ch = p[i];
                int d;
                if (ch >= '0' && ch <= '9') d = ch - '0';
                else if (ch >= 'a' && ch <= 'f') d = ch - 'a' + 10;
                else if (ch >= 'A' && ch <= 'F') d = ch - 'A' + 10;
                else break;
                if (i >= 15) return R_ERR;
                sz = sz * 16 + (uint64_t)d;
            }
            if (i == 0) return R_ERR;
            if (i < ll && p[i] != ';' && p[i] != ' ' && p[i] != '\t') return R_ERR; /* extensions ok */
            if (sz == 0) { c->pstate = P_TRAILER; continue; }
            c->remaining = sz;
            c->pstate = P_CHUNK_DATA;
            continue;
        }
        case P_UNTIL_CLOSE:
            c->rpos = c->rlen = 0;
            return R_NEED;
        default:
            return R_ERR;
        }
    }
}

static void response_done(worker_t *w, conn_t *c, uint64_t now) {
    if (in_window(now)) {
        hist_record(&w->hist, now - c->t_start);
        if (c->status < 200 || c->status > 299) w->non2xx++;
    }
    c->served++;
}

static void on_readable(worker_t *w, conn_t *c, uint64_t now) {
    ssize_t n = read(c->fd, c->buf + c->rlen, BUFSZ - c->rlen);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
        fail(w, c, &w->err_io, now);
        return;
    }
    if (n == 0) {
        if (c->pstate == P_UNTIL_CLOSE) { /* body delimited by close: complete */
            response_done(w, c, now);
            schedule_connect(c, now);
            return;
        }
        fail(w, c, &w->err_eof, now); /* closed before a complete response */
        return;
    }
    c->got_bytes = 1;
    c->rlen += (size_t)n;
    int r = parse(c);
    if (r == R_NEED) return;
    if (r == R_ERR) { fail(w, c, &w->err_parse, now); return; }
    /* complete */
    if (c->rpos != c->rlen) { /* bytes beyond the response we asked for */
        fail(w, c, &w->err_parse, now);
        return;
    }
    response_done(w, c, now);
    if (!c->keepalive) {
        schedule_connect(c, now); /* clean close requested by server */
        start_connect(w, c, now);
        return;
    }
    send_request(w, c, now);
}

static void on_event(worker_t *w, conn_t *c, uint32_t events, uint64_t now) {
    switch (c->state) {
    case ST_CONNECTING: {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) {
            count_error(w, &w->err_connect, now);
            schedule_connect(c, now + 10000000ull);
            return;
        }
        c->ever_connected = 1;
        c->served = 0;
        want_events(w, c, EPOLLIN);
        send_request(w, c, now);
        return;
    }
    case ST_WRITING:
        if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
            /* server answered / closed before we finished writing */
            on_readable(w, c, now);
            if (c->state != ST_WRITING) return;
        }
        if (events & EPOLLOUT) continue_write(w, c, now);
        return;
    case ST_READING:
        on_readable(w, c, now);
        return;
    default:
        return; /* stale event for a closed fd */
    }
}

/* ------------------------------------------------------------------- worker --- */
static void *worker_main(void *arg) {
    worker_t *w = arg;
    struct epoll_event evs[MAXEV];
    uint64_t now = now_ns();
    for (int i = 0; i < w->nconns; i++) start_connect(w, &w->conns[i], now);
    uint64_t next_scan = now + 1000000ull;
    for (;;) {
        now = now_ns();
        if (now >= g_t_end) break;
        if (now >= next_scan) {
            /* retries and per-request timeouts */
            int waiting = 0;
            for (int i = 0; i < w->nconns; i++) {
                conn_t *c = &w->conns[i];
                if (c->state == ST_WAIT) {
                    if (now >= c->retry_at) start_connect(w, c, now);
                    if (c->state == ST_WAIT) waiting = 1;
                } else if (g_timeout_ns && now - c->t_start > g_timeout_ns) {
                    fail(w, c, &w->err_timeout, now);
                    start_connect(w, c, now);
                    if (c->state == ST_WAIT) waiting = 1;
                }
            }
            next_scan = now + (waiting ? 1000000ull : 50000000ull);
        }
        uint64_t until = next_scan < g_t_end ? next_scan : g_t_end;
        int timeout_ms = until > now ? (int)((until - now + 999999ull) / 1000000ull) : 0;
        if (g_busy_poll) timeout_ms = 0; /* spin: keeps this CPU out of idle states */
        int n = epoll_wait(w->ep, evs, MAXEV, timeout_ms);
        if (n < 0) {
            if (errno == EINTR) continue;
            perror("epoll_wait");
            break;
        }
        now = now_ns();
        for (int i = 0; i < n; i++) {
            conn_t *c = evs[i].data.ptr;
            if (c->fd < 0) continue;
            on_event(w, c, evs[i].events, now);
            if (c->state == ST_WAIT && c->retry_at <= now) {
                start_connect(w, c, now); /* immediate reconnect after an error */
                if (c->state == ST_WAIT && c->retry_at < next_scan) next_scan = c->retry_at;
            }
        }
    }
    for (int i = 0; i < w->nconns; i++) conn_close(&w->conns[i]);
    return NULL;
}

/* --------------------------------------------------------------------- main --- */
static void watchdog(int sig) {
    (void)sig;
    static const char msg[] = "loadgen: watchdog fired, aborting\n";
    ssize_t r = write(2, msg, sizeof msg - 1);
    (void)r;
    _exit(3);
}

static void usage(FILE *f) {
    fprintf(f,
            "usage: loadgen --socket PATH [--path /v1/health] --connections N --duration SECONDS\n"
            "               [--warmup SECONDS] [--threads T] [--timeout SECONDS] [--busy-poll] [--json]\n");
}

static double parse_num(const char *name, const char *s, double min) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || v < min) {
        fprintf(stderr, "loadgen: bad value for --%s: '%s'\n", name, s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv) {
    const char *sock = NULL, *path = "/v1/health";
    long nconns = 1, nthreads = 1;
    double duration = 5, warmup = 0, timeout = 5;
    int json = 0;
    static const struct option opts[] = {
        {"socket", required_argument, 0, 's'},  {"path", required_argument, 0, 'p'},
        {"connections", required_argument, 0, 'c'}, {"duration", required_argument, 0, 'd'},
        {"warmup", required_argument, 0, 'w'},  {"threads", required_argument, 0, 't'},
        {"timeout", required_argument, 0, 'T'}, {"json", no_argument, 0, 'j'},
        {"busy-poll", no_argument, 0, 'b'},     {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    int o;
    while ((o = getopt_long(argc, argv, "s:p:c:d:w:t:T:jbh", opts, NULL)) != -1) {
        switch (o) {
        case 's': sock = optarg; break;
        case 'p': path = optarg; break;
        case 'c': nconns = (long)parse_num("connections", optarg, 1); break;
        case 'd': duration = parse_num("duration", optarg, 0.001); break;
        case 'w': warmup = parse_num("warmup", optarg, 0); break;
        case 't': nthreads = (long)parse_num("threads", optarg, 1); break;
        case 'T': timeout = parse_num("timeout", optarg, 0); break;
        case 'j': json = 1; break;
        case 'b': g_busy_poll = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!sock || optind != argc) { usage(stderr); return 2; }
    if (strlen(sock) >= sizeof g_addr.sun_path) {
        fprintf(stderr, "loadgen: socket path too long (max %zu)\n", sizeof g_addr.sun_path - 1);
        return 2;
    }
    if (nconns > 100000 || nthreads > 1024) { fprintf(stderr, "loadgen: too many connections/threads\n"); return 2; }
    if (nthreads > nconns) nthreads = nconns;
    if (path[0] != '/' || strpbrk(path, " \r\n")) { fprintf(stderr, "loadgen: bad --path\n"); return 2; }
    int rl = snprintf(g_req, sizeof g_req, "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", path);
    if (rl < 0 || (size_t)rl >= sizeof g_req) { fprintf(stderr, "loadgen: --path too long\n"); return 2; }
    g_reqlen = (size_t)rl;

    memset(&g_addr, 0, sizeof g_addr);
    g_addr.sun_family = AF_UNIX;
    memcpy(g_addr.sun_path, sock, strlen(sock) + 1);
    g_addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(sock) + 1);

    signal(SIGPIPE, SIG_IGN);
    signal(SIGALRM, watchdog);
    alarm((unsigned)(warmup + duration + timeout) + 10);

    g_timeout_ns = (uint64_t)(timeout * 1e9);
    uint64_t t0 = now_ns();
    g_t_measure = t0 + (uint64_t)(warmup * 1e9);
    g_t_end = g_t_measure + (uint64_t)(duration * 1e9);

    worker_t *ws = calloc((size_t)nthreads, sizeof *ws);
    if (!ws) { perror("calloc"); return 1; }
    for (long t = 0; t < nthreads; t++) {
        worker_t *w = &ws[t];
        w->id = (int)t;
        w->nconns = (int)(nconns / nthreads + (t < nconns % nthreads ? 1 : 0));
        w->conns = calloc((size_t)w->nconns, sizeof(conn_t));
        w->ep = epoll_create1(EPOLL_CLOEXEC);
        if (!w->conns || w->ep < 0) { perror("setup"); return 1; }
        for (int i = 0; i < w->nconns; i++) w->conns[i].fd = -1;
    }
    for (long t = 1; t < nthreads; t++) {
        int e = pthread_create(&ws[t].tid, NULL, worker_main, &ws[t]);
        if (e) { fprintf(stderr, "loadgen: pthread_create: %s\n", strerror(e)); return 1; }
    }
    worker_main(&ws[0]);
    for (long t = 1; t < nthreads; t++) pthread_join(ws[t].tid, NULL);
    alarm(0);

    hist_t *h = calloc(1, sizeof *h);
    if (!h) { perror("calloc"); return 1; }
    uint64_t non2xx = 0, ec = 0, eio = 0, eeof = 0, ep = 0, eto = 0, recon = 0;
    for (long t = 0; t < nthreads; t++) {
        hist_merge(h, &ws[t].hist);
        non2xx += ws[t].non2xx;
        ec += ws[t].err_connect;
        eio += ws[t].err_io;
        eeof += ws[t].err_eof;
        ep += ws[t].err_parse;
        eto += ws[t].err_timeout;
        recon += ws[t].reconnects;
    }
    uint64_t errors = ec + eio + eeof + ep + eto;
    double rps = (double)h->count / duration;
    double p50 = hist_quantile(h, 0.50) / 1e3, p90 = hist_quantile(h, 0.90) / 1e3;
    double p99 = hist_quantile(h, 0.99) / 1e3, mx = (double)h->max / 1e3;
    double mean = h->count ? (double)h->sum / (double)h->count / 1e3 : 0.0;
    if (json) {
        printf("{\"connections\":%ld,\"threads\":%ld,\"duration_s\":%.3f,\"warmup_s\":%.3f,"
               "\"requests\":%" PRIu64 ",\"rps\":%.1f,\"p50_us\":%.1f,\"p90_us\":%.1f,\"p99_us\":%.1f,"
               "\"max_us\":%.1f,\"mean_us\":%.1f,\"errors\":%" PRIu64 ",\"non2xx\":%" PRIu64
               ",\"reconnects\":%" PRIu64 ",\"err_connect\":%" PRIu64 ",\"err_io\":%" PRIu64
               ",\"err_eof\":%" PRIu64 ",\"err_parse\":%" PRIu64 ",\"err_timeout\":%" PRIu64 "}\n",
               nconns, nthreads, duration, warmup, h->count, rps, p50, p90, p99, mx, mean, errors,
               non2xx, recon, ec, eio, eeof, ep, eto);
    } else {
        printf("connections=%ld threads=%ld requests=%" PRIu64 " rps=%.1f p50_us=%.1f p90_us=%.1f "
               "p99_us=%.1f max_us=%.1f mean_us=%.1f errors=%" PRIu64 " non2xx=%" PRIu64
               " reconnects=%" PRIu64 "\n",
               nconns, nthreads, h->count, rps, p50, p90, p99, mx, mean, errors, non2xx, recon);
        if (errors)
            fprintf(stderr,
                    "loadgen: errors: connect=%" PRIu64 " io=%" PRIu64 " eof=%" PRIu64 " parse=%" PRIu64
                    " timeout=%" PRIu64 "\n",
                    ec, eio, eeof, ep, eto);
    }
    fflush(stdout);
    int rc = h->count > 0 ? 0 : 1;
    for (long t = 0; t < nthreads; t++) {
        close(ws[t].ep);
        free(ws[t].conns);
    }
    free(ws);
    free(h);
    return rc;
}
