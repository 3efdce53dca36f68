// The C edge of swift-cni: libmnl's netlink definitions (header only: nothing links
// libmnl, so the plugins can be static executables), the Linux uapi headers we speak
// (rtnetlink, nf_tables), the few GNU libc functions Swift's Glibc module hides, and small
// inline functions for the macros and variadic calls Swift cannot import. Nothing above
// the Netlink, NetNS and CNI modules includes this.
#ifndef SWIFT_CNI_CMNL_SHIM_H
#define SWIFT_CNI_CMNL_SHIM_H

// No _GNU_SOURCE here: it changes glibc's definitions of shared types (fd_set, in6_addr)
// against Swift's Glibc module, and a clean build then fails with "different definitions in
// different modules". The few GNU functions we need are declared below instead.

#include <sched.h>
#include <spawn.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>  /* before any <linux/...>: libc-compat then skips the kernel copies of in6_addr */
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/ioctl.h>
#include <sys/file.h>
#include <net/if.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_link.h>
#include <linux/if_addr.h>
#include <linux/if_bridge.h>
#include <linux/neighbour.h>
#include <linux/veth.h>
#include <linux/nsfs.h>
#include <linux/magic.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>

static inline size_t cmnl_socket_buffer_size(void) { return MNL_SOCKET_BUFFER_SIZE; }
static inline size_t cmnl_align(size_t len) { return MNL_ALIGN(len); }
static inline size_t cmnl_nlmsg_hdrlen(void) { return MNL_NLMSG_HDRLEN; }
static inline size_t cmnl_attr_hdrlen(void) { return MNL_ATTR_HDRLEN; }

/// `setns(2)` and `unshare(2)`: glibc declares them only under _GNU_SOURCE (see above), so
/// their prototypes are repeated here; the symbols are in every glibc.
extern int setns(int fd, int nstype);
extern int unshare(int flags);
static inline int cmnl_setns(int fd, int nstype) { return setns(fd, nstype); }
/// CLONE_NEWNET from <linux/sched.h>, which glibc's <sched.h> hides without _GNU_SOURCE.
static inline int cmnl_clone_newnet(void) { return 0x40000000; }
/// Tests use it to give a thread its own empty netns.
static inline int cmnl_unshare(int flags) { return unshare(flags); }
/// `ioctl(fd, NS_GET_NSTYPE)`: tells whether an open file is a namespace, and which kind.
static inline int cmnl_ns_get_nstype(int fd) { return ioctl(fd, NS_GET_NSTYPE); }
/// IPV4_DEVCONF_ARP_NOTIFY (22) from <linux/ip.h>, not included: its struct iphdr would
/// clash with glibc's <netinet/ip.h> in Swift's Glibc module.
static inline unsigned short cmnl_ipv4_devconf_arp_notify(void) { return 22; }
/// `pipe2(2)` and `posix_spawn_file_actions_addclosefrom_np(3)` (glibc 2.34+), likewise
/// GNU-only; declared here rather than looked up with dlsym, which finds nothing in a
/// static executable.
extern int pipe2(int pipefd[2], int flags);
extern int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);
static inline int cmnl_pipe2(int pipefd[2], int flags) { return pipe2(pipefd, flags); }
static inline int cmnl_spawn_add_closefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}
/// `open(2)` is variadic in C; this fixed-arity form is callable from Swift.
static inline int cmnl_open(const char *path, int flags, unsigned mode) { return open(path, flags, mode); }

#endif
