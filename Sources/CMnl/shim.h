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
#include <sys/syscall.h>
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


// --- The UDP backend's TUN device and UDP socket (Sources/UDPTunnel) ---
// if_tun.h's ioctl numbers are _IOW macros and Debian 12's uapi headers (6.1) predate USO;
// virtio_net.h gives the header TUN prepends with IFF_VNET_HDR; glibc's <netinet/udp.h> has
// UDP_SEGMENT/UDP_GRO. recvmmsg/sendmmsg and struct mmsghdr are GNU-only (see the rule
// above), so they are reached through syscall(2) with a struct of the same layout.
#include <string.h>
#include <poll.h>
#include <sys/syscall.h>
#include <netinet/udp.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>

/// TUN_F_USO4/6 (Linux 6.2) and VIRTIO_NET_HDR_GSO_UDP_L4 (5.x), absent from these headers.
static inline unsigned cmnl_tun_f_uso4(void) { return 0x20; }
static inline unsigned cmnl_tun_f_uso6(void) { return 0x40; }
static inline unsigned char cmnl_virtio_gso_udp_l4(void) { return 5; }

/// TUNSETIFF: attaches `fd` to the TUN device `name` (creating it), with `flags`
/// (IFF_TUN|IFF_NO_PI|...). The kernel's name for the device is copied to `out` (IFNAMSIZ).
static inline int cmnl_tun_set_iff(int fd, const char *name, short flags, char *out) {
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    ifr.ifr_flags = flags;
    int rc = ioctl(fd, TUNSETIFF, &ifr);
    if (rc == 0 && out) memcpy(out, ifr.ifr_name, IFNAMSIZ);
    return rc;
}
/// TUNGETFEATURES: the IFF_* flags this kernel's tun driver supports.
static inline int cmnl_tun_get_features(int fd, unsigned *features) { return ioctl(fd, TUNGETFEATURES, features); }
static inline int cmnl_tun_set_persist(int fd, int on) { return ioctl(fd, TUNSETPERSIST, (unsigned long)on); }
/// TUNSETOFFLOAD takes the TUN_F_* bits by value.
static inline int cmnl_tun_set_offload(int fd, unsigned flags) { return ioctl(fd, TUNSETOFFLOAD, (unsigned long)flags); }
static inline int cmnl_tun_set_vnet_hdr_size(int fd, int size) { return ioctl(fd, TUNSETVNETHDRSZ, &size); }

/// struct mmsghdr's layout (GNU-only in glibc).
struct cmnl_mmsghdr { struct msghdr msg_hdr; unsigned int msg_len; };
static inline int cmnl_recvmmsg(int fd, struct cmnl_mmsghdr *vec, unsigned n, int flags) {
    return (int)syscall(SYS_recvmmsg, fd, vec, n, flags, (void *)0);
}
static inline int cmnl_sendmmsg(int fd, struct cmnl_mmsghdr *vec, unsigned n, int flags) {
    return (int)syscall(SYS_sendmmsg, fd, vec, n, flags);
}
/// Room for one UDP_SEGMENT or UDP_GRO control message.
static inline size_t cmnl_udp_cmsg_space(void) { return CMSG_SPACE(sizeof(int)); }
/// Puts a UDP_SEGMENT control message (segment size) into `m`'s control buffer, which must
/// hold cmnl_udp_cmsg_space() bytes.
static inline void cmnl_put_udp_segment(struct msghdr *m, unsigned short size) {
    m->msg_controllen = CMSG_SPACE(sizeof(unsigned short));
    struct cmsghdr *c = CMSG_FIRSTHDR(m);
    c->cmsg_level = SOL_UDP;
    c->cmsg_type = UDP_SEGMENT;
    c->cmsg_len = CMSG_LEN(sizeof(unsigned short));
    memcpy(CMSG_DATA(c), &size, sizeof(size));
}
/// The UDP_GRO segment size the kernel reported for a received message, 0 if none.
static inline int cmnl_udp_gro_size(struct msghdr *m) {
    for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
        if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
            int size = 0;
            memcpy(&size, CMSG_DATA(c), sizeof(size));
            return size;
        }
    }
    return 0;
}

/// SIOCGIFMTU: the MTU of interface `name` (asked on any socket), -1 on error.
static inline int cmnl_interface_mtu(int fd, const char *name) {
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    return ioctl(fd, SIOCGIFMTU, &ifr) == 0 ? ifr.ifr_mtu : -1;
}

/// The birth time of the open file `fd` (statx(2) with STATX_BTIME; glibc's wrapper and
/// struct statx are GNU-only, so the raw syscall and the uapi layout: stx_mask at 0,
/// stx_btime at 80). 0 with the time in *sec and *nsec; -1 when the kernel or the
/// filesystem does not record it.
static inline int cmnl_birth_time(int fd, long long *sec, unsigned *nsec) {
    unsigned char buf[256] __attribute__((aligned(8)));
    if (syscall(SYS_statx, fd, "", 0x1000 /* AT_EMPTY_PATH */, 0x800U /* STATX_BTIME */, buf) != 0) return -1;
    unsigned mask;
    __builtin_memcpy(&mask, buf, sizeof mask);
    if (!(mask & 0x800U)) return -1;
    __builtin_memcpy(sec, buf + 80, sizeof *sec);
    __builtin_memcpy(nsec, buf + 88, sizeof *nsec);
    return 0;
}

#endif
