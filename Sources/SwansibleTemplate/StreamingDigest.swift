import Foundation

/// SHA-1 and MD5 fed in pieces, for checksumming a controller file without holding it in memory (the copy
/// module's source). The results equal ``hexDigest(_:_:)`` of the whole data.
public struct StreamingDigest: Sendable {
    public enum Algorithm: Sendable { case sha1, md5 }

    public let algorithm: Algorithm
    private var state: [UInt32]
    /// Bytes of an incomplete block.
    private var pending: [UInt8] = []
    private var length: UInt64 = 0

    public init(_ algorithm: Algorithm) {
        self.algorithm = algorithm
        switch algorithm {
        case .sha1: state = [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0]
        case .md5: state = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476]
        }
        pending.reserveCapacity(64)
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard var p = bytes.baseAddress, !bytes.isEmpty else { return }
        var remaining = bytes.count
        length &+= UInt64(remaining)
        if !pending.isEmpty {
            let take = min(64 - pending.count, remaining)
            pending.append(contentsOf: UnsafeRawBufferPointer(start: p, count: take))
            p += take
            remaining -= take
            if pending.count < 64 { return }
            let block = pending
            block.withUnsafeBytes { compress($0.baseAddress!, blocks: 1) }
            pending.removeAll(keepingCapacity: true)
        }
        let whole = remaining / 64
        if whole > 0 {
            compress(p, blocks: whole)
            p += whole * 64
            remaining -= whole * 64
        }
        if remaining > 0 { pending.append(contentsOf: UnsafeRawBufferPointer(start: p, count: remaining)) }
    }

    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The digest as lowercase hex (the value is spent: padding is added to it).
    public mutating func finalizeHex() -> String {
        let bits = length &* 8
        var tail: [UInt8] = [0x80]
        while (pending.count + tail.count) % 64 != 56 { tail.append(0) }
        for i in 0..<8 {
            let shift = algorithm == .sha1 ? UInt64(56 - 8 * i) : UInt64(8 * i)
            tail.append(UInt8(truncatingIfNeeded: bits >> shift))
        }
        let savedLength = length
        update(tail)
        length = savedLength
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for word in state {
            for i in 0..<4 {
                let shift = algorithm == .sha1 ? UInt32(24 - 8 * i) : UInt32(8 * i)
                let byte = UInt8(truncatingIfNeeded: word >> shift)
                out.append(digits[Int(byte >> 4)])
                out.append(digits[Int(byte & 0xF)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private mutating func compress(_ p: UnsafeRawPointer, blocks: Int) {
        switch algorithm {
        case .sha1: sha1Blocks(p, blocks)
        case .md5: md5Blocks(p, blocks)
        }
    }

    @inline(__always) private static func rotl(_ x: UInt32, _ n: UInt32) -> UInt32 { (x << n) | (x >> (32 &- n)) }

    private mutating func sha1Blocks(_ p: UnsafeRawPointer, _ blocks: Int) {
        var h0 = state[0], h1 = state[1], h2 = state[2], h3 = state[3], h4 = state[4]
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 80) { w in
            for block in 0..<blocks {
                let base = p + block * 64
                for i in 0..<16 {
                    w[i] = UInt32(bigEndian: base.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))
                }
                for i in 16..<80 { w[i] = Self.rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1) }
                var a = h0, b = h1, c = h2, d = h3, e = h4
                for i in 0..<20 {
                    let t = Self.rotl(a, 5) &+ ((b & c) | (~b & d)) &+ e &+ 0x5A82_7999 &+ w[i]
                    e = d; d = c; c = Self.rotl(b, 30); b = a; a = t
                }
                for i in 20..<40 {
                    let t = Self.rotl(a, 5) &+ (b ^ c ^ d) &+ e &+ 0x6ED9_EBA1 &+ w[i]
                    e = d; d = c; c = Self.rotl(b, 30); b = a; a = t
                }
                for i in 40..<60 {
                    let t = Self.rotl(a, 5) &+ ((b & c) | (b & d) | (c & d)) &+ e &+ 0x8F1B_BCDC &+ w[i]
                    e = d; d = c; c = Self.rotl(b, 30); b = a; a = t
                }
                for i in 60..<80 {
                    let t = Self.rotl(a, 5) &+ (b ^ c ^ d) &+ e &+ 0xCA62_C1D6 &+ w[i]
                    e = d; d = c; c = Self.rotl(b, 30); b = a; a = t
                }
                h0 = h0 &+ a; h1 = h1 &+ b; h2 = h2 &+ c; h3 = h3 &+ d; h4 = h4 &+ e
            }
        }
        state[0] = h0; state[1] = h1; state[2] = h2; state[3] = h3; state[4] = h4
    }

    private static let md5Shifts: [UInt32] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
        5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
        4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
        6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ]

    /// floor(|sin(i + 1)| × 2³²), MD5's constants.
    private static let md5Constants: [UInt32] = (0..<64).map { i in
        let s = abs(sin(Double(i + 1)))
        return UInt32(truncatingIfNeeded: Int64(s * 4_294_967_296.0))
    }

    private mutating func md5Blocks(_ p: UnsafeRawPointer, _ blocks: Int) {
        var a0 = state[0], b0 = state[1], c0 = state[2], d0 = state[3]
        let shifts = Self.md5Shifts, constants = Self.md5Constants
        shifts.withUnsafeBufferPointer { s in
            constants.withUnsafeBufferPointer { k in
                withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 16) { w in
                    for block in 0..<blocks {
                        let base = p + block * 64
                        for i in 0..<16 {
                            w[i] = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))
                        }
                        var a = a0, b = b0, c = c0, d = d0
                        for i in 0..<64 {
                            var f: UInt32
                            let g: Int
                            switch i {
                            case 0..<16: f = (b & c) | (~b & d); g = i
                            case 16..<32: f = (d & b) | (~d & c); g = (5 &* i &+ 1) & 15
                            case 32..<48: f = b ^ c ^ d; g = (3 &* i &+ 5) & 15
                            default: f = c ^ (b | ~d); g = (7 &* i) & 15
                            }
                            f = f &+ a &+ k[i] &+ w[g]
                            a = d; d = c; c = b
                            b = b &+ Self.rotl(f, s[i])
                        }
                        a0 = a0 &+ a; b0 = b0 &+ b; c0 = c0 &+ c; d0 = d0 &+ d
                    }
                }
            }
        }
        state[0] = a0; state[1] = b0; state[2] = c0; state[3] = d0
    }
}
