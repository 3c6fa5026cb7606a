import Testing
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
}
