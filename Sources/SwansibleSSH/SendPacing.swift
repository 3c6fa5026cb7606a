internal import CLibSSH2
internal import Glibc

/// How much of a channel's send window an upload may fill before it waits for the server to take what it has.
///
/// OpenSSH's sshd grants a session channel 2 MB of window and keeps what arrives in one buffer until the command
/// reads it; that buffer grows by `recallocarray` one 32 KB packet at a time (a fresh copy, and above glibc's mmap
/// threshold a fresh mapping that is page-faulted in and unmapped again, per packet). When the command reads
/// slower than the client sends — 50 uploads on the machine's 2 cores — the buffer fills toward the window and sshd
/// spends more CPU on copying and faulting than on decrypting: W3 (10 MB to 50 hosts) cost the test hosts' sshd
/// processes 4.7 s of CPU, 2.5–2.9 s with at most 256 KB in flight per channel.
///
/// Keeping less than the window in flight is safe only with a server that announces consumed bytes well before
/// the window is spent: OpenSSH sends a window adjust every three packets taken (since 4.7, 2007; before, at half the
/// window). Any other server gets the whole window, as before.
enum SendPacing {
    /// Bytes in flight per channel when the server is OpenSSH 4.7 or later: eight 32 KB packets, above the
    /// three-packet adjust threshold with room to spare.
    static let openSSHLimit = 256 * 1024
    /// The data a channel packet carries at most (libssh2 1.10 writes at most 32,700 bytes per call).
    static let packetSize = 32_768

    /// The limit for one upload on a connection whose round-trip time is `rttMicroseconds` (0: unknown): what keeps
    /// 256 MB/s flowing at that round-trip time, at least ``openSSHLimit``. A limit far below the bandwidth-delay
    /// product would throttle a transfer over a real network (256 KB per 50 ms is 5 MB/s), so beyond ~8 ms the
    /// limit exceeds sshd's 2 MB window and pacing no longer binds; on loopback and a LAN it keeps sshd's buffer
    /// small.
    static func limit(_ base: Int, rttMicroseconds: UInt32) -> Int {
        let perMillisecond = 256 * 1024
        return max(base, Int(rttMicroseconds) * perMillisecond / 1000)
    }

    /// The path's round-trip time on a connected TCP socket in microseconds (0: unknown): the lowest the kernel has
    /// seen, not its smoothed time, which on a busy machine is mostly the time either end waited to be scheduled
    /// (4–8 ms on loopback during W3, which raised the limit to 1–2 MB and let sshd's buffers grow again).
    static func pathRoundTrip(socket: Int32) -> UInt32 { swansible_tcp_rtt_us(socket) }

    /// The in-flight limit for a server that sent `banner` (its identification string, "SSH-2.0-OpenSSH_9.2p1 …"),
    /// nil for no limit beyond the window.
    static func limit(forBanner banner: String) -> Int? {
        // The software version follows the protocol version: "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3".
        let parts = banner.split(separator: "-", maxSplits: 2)
        guard parts.count == 3, parts[0] == "SSH" else { return nil }
        let software = parts[2]
        guard software.hasPrefix("OpenSSH_") else { return nil }
        let version = software.dropFirst("OpenSSH_".count)
        let numbers = version.prefix { $0.isNumber || $0 == "." }.split(separator: ".").compactMap { Int($0) }
        guard let major = numbers.first else { return nil }
        let minor = numbers.count > 1 ? numbers[1] : 0
        return major > 4 || (major == 4 && minor >= 7) ? openSSHLimit : nil
    }
}

/// One upload's view of its channel window: what may be written now without more than the connection's limit in
/// flight (sent, and not yet given back by a window adjust).
struct SendPacer {
    let limit: Int?
    /// The largest window seen: the server's full grant, so in flight = peak − current window. (libssh2 1.10
    /// reports no initial window for channels it opens, and OpenSSH grants its window only after the exec.)
    private var peak = 0

    init(limit: Int?) { self.limit = limit }

    /// Bytes that may be written on `channel` now (0: wait for the server's window adjust).
    ///
    /// libssh2 counts a packet against the window only once it is wholly sent, so a packet that a full socket cut
    /// short (EAGAIN) never lowers the allowance before it is resent, and the write that resends it is never held
    /// back.
    mutating func allowance(_ channel: OpaquePointer?) -> Int {
        let window = Int(libssh2_channel_window_write_ex(channel, nil))
        peak = max(peak, window)
        guard let limit else { return window }
        let room = limit - (peak - window)
        // While the limit binds, whole packets only: a sliver costs a packet's overhead on both ends for a few
        // bytes. (The limit is far above OpenSSH's adjust threshold, so an adjust is on its way.)
        if room < min(window, SendPacing.packetSize) { return 0 }
        return min(window, room)
    }
}
