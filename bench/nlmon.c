/* nlmon: rtnetlink notifications of one network namespace, with receive timestamps.
 *
 *   nlmon /run/netns/NAME
 *
 * Joins NAME, subscribes to RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE | RTMGRP_NEIGH and prints
 * one line per notification the cross-host bench cares about, as soon as a receive returns:
 *
 *   <N|D> route 10.244.3.0/24 <ns>   IPv4 route with rtm_protocol 92 (the agents')
 *   <N|D> neigh 10.244.3.0 <ns>      AF_INET neighbour (N only when NUD_PERMANENT)
 *   <N|D> fdb 0e:aa:bb:cc:dd:ee <ns> AF_BRIDGE entry with a remote IPv4 dst (vxlan FDB)
 *   <N|D> route6 fd00:1:0:3::/64 <ns>, neigh6 fd00:1:0:3:: <ns>, fdb6 <mac> <ns>
 *                                    the same for IPv6 (dual stack; fdb6: a remote IPv6 dst)
 *   O overflow <ns>                  ENOBUFS: notifications were lost
 *
 * <ns> is CLOCK_REALTIME in nanoseconds taken right after recv() returned (netlink has
 * no SO_TIMESTAMP). "ready" is printed once subscribed. Written in C so that a burst of
 * 3,000 notifications costs the 2-CPU bench machine next to nothing and is stamped without
 * a Python thread's scheduling lag. Exits on SIGTERM or when stdout closes.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PROTO 92

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: nlmon /run/netns/NAME\n");
        return 2;
    }
    int nsfd = open(argv[1], O_RDONLY | O_CLOEXEC);
    if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) != 0) {
        perror(argv[1]);
        return 1;
    }
    close(nsfd);
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) {
        perror("socket");
        return 1;
    }
    int sz = 64 << 20;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz) != 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE | RTMGRP_NEIGH};
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        perror("bind");
        return 1;
    }
    static char out[1 << 20];
    setvbuf(stdout, out, _IOFBF, sizeof out);
    printf("ready\n");
    fflush(stdout);
    static char buf[1 << 20];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        long long ts = now_ns();
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == ENOBUFS) {
                printf("O overflow %lld\n", ts);
                if (fflush(stdout) != 0) return 0;
                continue;
            }
            perror("recv");
            return 1;
        }
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
            char a[INET6_ADDRSTRLEN];
            if (h->nlmsg_type == RTM_NEWROUTE || h->nlmsg_type == RTM_DELROUTE) {
                struct rtmsg *r = NLMSG_DATA(h);
                if ((r->rtm_family != AF_INET && r->rtm_family != AF_INET6) || r->rtm_protocol != PROTO) continue;
                int len = RTM_PAYLOAD(h);
                for (struct rtattr *at = RTM_RTA(r); RTA_OK(at, len); at = RTA_NEXT(at, len)) {
                    if (at->rta_type == RTA_DST) {
                        inet_ntop(r->rtm_family, RTA_DATA(at), a, sizeof a);
                        printf("%c route%s %s/%u %lld\n", h->nlmsg_type == RTM_NEWROUTE ? 'N' : 'D',
                               r->rtm_family == AF_INET6 ? "6" : "", a, r->rtm_dst_len, ts);
                    }
                }
            } else if (h->nlmsg_type == RTM_NEWNEIGH || h->nlmsg_type == RTM_DELNEIGH) {
                struct ndmsg *nd = NLMSG_DATA(h);
                int len = RTM_PAYLOAD(h);
                unsigned char *dst = NULL, *ll = NULL;
                int dlen = 0, llen = 0;
                for (struct rtattr *at = (struct rtattr *)((char *)nd + NLMSG_ALIGN(sizeof *nd)); RTA_OK(at, len);
                     at = RTA_NEXT(at, len)) {
                    if (at->rta_type == NDA_DST) dst = RTA_DATA(at), dlen = RTA_PAYLOAD(at);
                    if (at->rta_type == NDA_LLADDR) ll = RTA_DATA(at), llen = RTA_PAYLOAD(at);
                }
                char op = h->nlmsg_type == RTM_NEWNEIGH ? 'N' : 'D';
                if (nd->ndm_family == AF_INET && dst && dlen == 4) {
                    if (op == 'N' && !(nd->ndm_state & NUD_PERMANENT)) continue;
                    inet_ntop(AF_INET, dst, a, sizeof a);
                    printf("%c neigh %s %lld\n", op, a, ts);
                } else if (nd->ndm_family == AF_INET6 && dst && dlen == 16) {
                    if (op == 'N' && !(nd->ndm_state & NUD_PERMANENT)) continue;
                    inet_ntop(AF_INET6, dst, a, sizeof a);
                    printf("%c neigh6 %s %lld\n", op, a, ts);
                } else if (nd->ndm_family == AF_BRIDGE && dst && ll && llen == 6) {
                    printf("%c fdb%s %02x:%02x:%02x:%02x:%02x:%02x %lld\n", op, dlen == 16 ? "6" : "",
                           ll[0], ll[1], ll[2], ll[3], ll[4], ll[5], ts);
                }
            }
        }
        if (fflush(stdout) != 0) return 0;
    }
}
