#ifndef SWANSIBLE_CLIBSSH2_SHIM_H
#define SWANSIBLE_CLIBSSH2_SHIM_H

#include <libssh2.h>
#include <libssh2_sftp.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/prctl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

/* Names the calling thread (15 characters at most), for ps and debuggers. */
static inline void swansible_set_thread_name(const char *name) { (void)prctl(PR_SET_NAME, name, 0, 0, 0); }

/* Function-like macros of libssh2.h that Swift cannot import, as prefixed inline functions. */

static inline LIBSSH2_CHANNEL *swansible_channel_open_session(LIBSSH2_SESSION *session, unsigned int window) {
    return libssh2_channel_open_ex(session, "session", sizeof("session") - 1, window,
                                   LIBSSH2_CHANNEL_PACKET_DEFAULT, NULL, 0);
}

static inline int swansible_channel_exec(LIBSSH2_CHANNEL *channel, const char *command, unsigned int length) {
    return libssh2_channel_process_startup(channel, "exec", sizeof("exec") - 1, command, length);
}

/*
 * A pty for su's password prompt, with terminal modes (RFC 4254 8: opcode, uint32, TTY_OP_END) that keep the
 * command's output as it wrote it: ECHO (53) off, so nothing typed is repeated into stdout, and ONLCR (72) off, so
 * "\n" stays "\n" rather than "\r\n".
 */
static inline int swansible_channel_request_pty(LIBSSH2_CHANNEL *channel) {
    static const char modes[] = { 53, 0, 0, 0, 0, 72, 0, 0, 0, 0, 0 };
    return libssh2_channel_request_pty_ex(channel, "dumb", 4, modes, sizeof(modes), 80, 24, 0, 0);
}

static inline int swansible_userauth_password(LIBSSH2_SESSION *session, const char *user, unsigned int userlen,
                                              const char *password, unsigned int passwordlen) {
    return libssh2_userauth_password_ex(session, user, userlen, password, passwordlen, NULL);
}

/*
 * sshd sets no TCP_NODELAY on non-tty sessions, so a delayed ACK on our side stalls the first
 * exec by ~40 ms. Linux clears TCP_QUICKACK after a while on its own; setting it again after each
 * receive keeps ACKs immediate. Same contract as libssh2's own recv: bytes read, or -errno.
 */
static inline ssize_t swansible_recv_quickack(libssh2_socket_t sock, void *buffer, size_t length, int flags,
                                              void **abstract) {
    (void)abstract;
    ssize_t rc = recv(sock, buffer, length, flags);
    if (rc < 0) {
        return errno == ENOENT ? -EAGAIN : -errno;
    }
    int one = 1;
    (void)setsockopt(sock, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
    return rc;
}

/*
 * The lowest round-trip time the kernel has seen on a TCP socket, in microseconds (TCP_INFO's tcpi_min_rtt, Linux
 * 4.6+), or its smoothed round-trip time where the kernel reports no minimum, or 0 when unknown. The minimum is the
 * path's own delay: the smoothed time also counts how long a busy machine took to schedule either end, which on
 * loopback under load is milliseconds. glibc's struct tcp_info stops before tcpi_min_rtt, so it is read at its
 * offset in the kernel's struct (148; the kernel only ever appends fields).
 */
static inline unsigned int swansible_tcp_rtt_us(libssh2_socket_t sock) {
#ifdef TCP_INFO
    unsigned int info[64];
    socklen_t size = sizeof(info);
    memset(info, 0, sizeof(info));
    if (getsockopt(sock, IPPROTO_TCP, TCP_INFO, info, &size) != 0) return 0;
    if (size >= 152 && info[148 / 4] != 0 && info[148 / 4] != ~0u) return info[148 / 4];
    return size >= 72 ? info[68 / 4] : 0;
#else
    (void)sock;
    return 0;
#endif
}

static inline void swansible_session_install_quickack(LIBSSH2_SESSION *session) {
    libssh2_session_callback_set(session, LIBSSH2_CALLBACK_RECV, (void *)swansible_recv_quickack);
}

/*
 * keyboard-interactive: answer every prompt with the password stored behind the session's
 * abstract pointer (a NUL-terminated string that the Swift side keeps alive while authenticating).
 */
static inline void swansible_kbdint_responder(const char *name, int name_len, const char *instruction,
                                              int instruction_len, int num_prompts,
                                              const LIBSSH2_USERAUTH_KBDINT_PROMPT *prompts,
                                              LIBSSH2_USERAUTH_KBDINT_RESPONSE *responses, void **abstract) {
    (void)name; (void)name_len; (void)instruction; (void)instruction_len; (void)prompts;
    const char *password = abstract ? (const char *)*abstract : NULL;
    for (int i = 0; i < num_prompts; i++) {
        size_t len = password ? strlen(password) : 0;
        char *copy = (char *)malloc(len + 1);
        if (copy) { memcpy(copy, password ? password : "", len); copy[len] = 0; }
        responses[i].text = copy;
        responses[i].length = copy ? (unsigned int)len : 0;
    }
}

static inline int swansible_userauth_kbdint(LIBSSH2_SESSION *session, const char *user, unsigned int userlen) {
    return libssh2_userauth_keyboard_interactive_ex(session, user, userlen, swansible_kbdint_responder);
}

static inline void *swansible_session_abstract_get(LIBSSH2_SESSION *session) {
    return *libssh2_session_abstract(session);
}

static inline void swansible_session_abstract_set(LIBSSH2_SESSION *session, void *value) {
    *libssh2_session_abstract(session) = value;
}

static inline LIBSSH2_SFTP_HANDLE *swansible_sftp_open(LIBSSH2_SFTP *sftp, const char *path, unsigned int pathlen,
                                                       unsigned long flags, long mode) {
    return libssh2_sftp_open_ex(sftp, path, pathlen, flags, mode, LIBSSH2_SFTP_OPENFILE);
}

static inline int swansible_sftp_rename(LIBSSH2_SFTP *sftp, const char *from, unsigned int fromlen, const char *to,
                                        unsigned int tolen) {
    return libssh2_sftp_rename_ex(sftp, from, fromlen, to, tolen,
                                  LIBSSH2_SFTP_RENAME_OVERWRITE | LIBSSH2_SFTP_RENAME_ATOMIC |
                                      LIBSSH2_SFTP_RENAME_NATIVE);
}

#endif
