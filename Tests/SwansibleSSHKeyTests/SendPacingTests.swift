import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import SwansibleSSH

@Suite("upload pacing: the in-flight limit by server banner")
struct SendPacingTests {
    @Test func openSSHSince47GetsTheLimit() {
        #expect(SendPacing.limit(forBanner: "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3") == SendPacing.openSSHLimit)
        #expect(SendPacing.limit(forBanner: "SSH-2.0-OpenSSH_4.7") == SendPacing.openSSHLimit)
        #expect(SendPacing.limit(forBanner: "SSH-2.0-OpenSSH_10.0") == SendPacing.openSSHLimit)
        #expect(SendPacing.limit(forBanner: "SSH-1.99-OpenSSH_5.3") == SendPacing.openSSHLimit)
    }

    @Test func othersKeepTheWholeWindow() {
        // Before 4.7 OpenSSH adjusted the window only at half of it; other servers may do the same.
        #expect(SendPacing.limit(forBanner: "SSH-2.0-OpenSSH_4.6p1") == nil)
        #expect(SendPacing.limit(forBanner: "SSH-2.0-OpenSSH_3.9") == nil)
        #expect(SendPacing.limit(forBanner: "SSH-2.0-dropbear_2022.83") == nil)
        #expect(SendPacing.limit(forBanner: "SSH-2.0-libssh_0.10.4") == nil)
        #expect(SendPacing.limit(forBanner: "SSH-2.0-OpenSSH") == nil)
        #expect(SendPacing.limit(forBanner: "garbage") == nil)
        #expect(SendPacing.limit(forBanner: "") == nil)
    }

    /// The limit grows with the round-trip time, so a real network's bandwidth-delay product is never cut short.
    @Test func limitGrowsWithTheRoundTripTime() {
        let base = SendPacing.openSSHLimit
        #expect(SendPacing.limit(base, rttMicroseconds: 0) == base)  // unknown
        #expect(SendPacing.limit(base, rttMicroseconds: 40) == base)  // loopback
        #expect(SendPacing.limit(base, rttMicroseconds: 1_000) == base)
        #expect(SendPacing.limit(base, rttMicroseconds: 4_000) == 4 * base)
        #expect(SendPacing.limit(base, rttMicroseconds: 50_000) >= 12 * 1024 * 1024)  // above sshd's 2 MB window
    }

    /// The kernel's minimum round-trip time of a loopback connection: known (not 0) and microseconds, not the
    /// milliseconds of a smoothed time or another TCP_INFO field read at the wrong offset.
    @Test func loopbackRoundTripIsMicroseconds() throws {
        let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(server) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(server, $0, length) == 0 && listen(server, 1) == 0
                && getsockname(server, $0, &length) == 0 }
        }
        try #require(bound)
        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(client) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, length) == 0 }
        }
        try #require(connected)
        let peer = accept(server, nil, nil)
        defer { close(peer) }
        var byte: UInt8 = 1
        for _ in 0..<20 {
            #expect(write(client, &byte, 1) == 1 && read(peer, &byte, 1) == 1)
            #expect(write(peer, &byte, 1) == 1 && read(client, &byte, 1) == 1)
        }
        let rtt = SendPacing.pathRoundTrip(socket: client)
        #expect(rtt > 0 && rtt < 1_000, "\(rtt) µs")
    }
}
