// Linux interfaces that Swift's Glibc module does not import (epoll, eventfd, signalfd, SO_PEERCRED),
// exposed as plain functions and unpacked structs. Only the Platform module uses this.
#ifndef OUTPOST_CPLATFORM_H
#define OUTPOST_CPLATFORM_H
#include <stdint.h>
#include <signal.h>

typedef struct {
    uint32_t events;
    uint64_t data;
} cplatform_event;

enum {
    CPLATFORM_EPOLLIN = 0x001,
    CPLATFORM_EPOLLOUT = 0x004,
    CPLATFORM_EPOLLERR = 0x008,
    CPLATFORM_EPOLLHUP = 0x010,
    CPLATFORM_EPOLLRDHUP = 0x2000,
    CPLATFORM_EPOLLEXCLUSIVE = 1u << 28,
    CPLATFORM_EPOLLET = 1u << 31,
};

int cplatform_epoll_create(void);
int cplatform_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data);
int cplatform_epoll_wait(int epfd, cplatform_event *events, int max_events, int timeout_ms);
int cplatform_epoll_ctl_add(void);
int cplatform_epoll_ctl_mod(void);
int cplatform_epoll_ctl_del(void);

int cplatform_eventfd(void);

/// Blocks `signals` (count entries) in the calling thread and returns a signalfd for them.
int cplatform_signalfd(const int *signals, int count);
/// Reads one signal from a signalfd; returns the signal number, 0 when none is pending, -1 on error.
int cplatform_signalfd_read(int fd);
/// Unblocks every signal in the calling thread (for a child after fork/exec).
int cplatform_unblock_signals(const int *signals, int count);

/// accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC.
int cplatform_accept_nonblocking(int listener);

/// SO_PEERCRED of a connected AF_UNIX socket.
int cplatform_peer_credentials(int fd, int32_t *pid, uint32_t *uid, uint32_t *gid);

#endif
