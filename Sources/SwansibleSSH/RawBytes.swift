/// Bytes that are not UTF-8, carried inside Swift strings.
///
/// Python keeps such bytes in a `str` as lone surrogates (U+DC80–U+DCFF, the `surrogateescape` error handler);
/// a Swift `String` cannot hold a lone surrogate, so swansible uses the last 128 code points of Unicode
/// instead: the byte `b` (0x80–0xFF) that is not part of valid UTF-8 is the scalar U+10FF00 + `b`
/// (U+10FF80–U+10FFFF, private use). ``decode(_:)`` and ``encode(_:)`` round-trip every byte string exactly;
/// every command line swansible sends (SSH and local) is encoded with ``encode(_:)``, so an argument built
/// with `String(escapingInvalidUTF8:)` reaches the remote program byte for byte. The price: a genuine
/// U+10FF80–U+10FFFF in a task argument is sent as that one byte.
public enum RawBytes {
    /// The first escape scalar's value minus 0x80 (U+10FF00 + byte).
    public static let escapeBase: UInt32 = 0x10FF00

    /// Whether `scalar` stands for a raw byte.
    @inlinable public static func isEscape(_ scalar: Unicode.Scalar) -> Bool { scalar.value >= escapeBase + 0x80 }

    /// Bytes as text: valid UTF-8 decoded, every other byte (and each byte of a valid sequence that would
    /// decode to an escape scalar) as its escape scalar.
    public static func decode(_ bytes: [UInt8]) -> String {
        var out = String.UnicodeScalarView()
        var i = 0
        while i < bytes.count {
            if let (scalar, length) = validSequence(bytes, at: i), !isEscape(scalar) {
                out.append(scalar)
                i += length
            } else {
                out.append(Unicode.Scalar(escapeBase + UInt32(bytes[i]))!)
                i += 1
            }
        }
        return String(out)
    }

    /// Text as bytes: UTF-8, escape scalars as their byte.
    public static func encode(_ s: String) -> [UInt8] {
        if !hasEscapes(s) { return Array(s.utf8) }
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        for scalar in s.unicodeScalars {
            if isEscape(scalar) {
                out.append(UInt8(scalar.value - escapeBase))
            } else {
                out.append(contentsOf: String(scalar).utf8)
            }
        }
        return out
    }

    /// Whether `s` holds escape scalars (encode differs from plain UTF-8).
    public static func hasEscapes(_ s: String) -> Bool { s.unicodeScalars.contains(where: isEscape) }

    /// The index, in Unicode scalars, of the first byte that is not valid UTF-8, and that byte (nil when all of
    /// `bytes` is valid UTF-8): what Python's `surrogateescape` decoding puts at that position.
    public static func firstInvalid(_ bytes: [UInt8]) -> (position: Int, byte: UInt8)? {
        var i = 0, position = 0
        while i < bytes.count {
            guard let (_, length) = validSequence(bytes, at: i) else { return (position, bytes[i]) }
            i += length
            position += 1
        }
        return nil
    }

    /// The scalar a valid UTF-8 sequence at `i` encodes, and its length (RFC 3629: no overlong forms, no
    /// surrogates, nothing above U+10FFFF).
    static func validSequence(_ b: [UInt8], at i: Int) -> (Unicode.Scalar, Int)? {
        let c0 = b[i]
        if c0 < 0x80 { return (Unicode.Scalar(c0), 1) }
        func cont(_ k: Int, _ lo: UInt8 = 0x80, _ hi: UInt8 = 0xBF) -> UInt32? {
            guard i + k < b.count, b[i + k] >= lo, b[i + k] <= hi else { return nil }
            return UInt32(b[i + k] & 0x3F)
        }
        switch c0 {
        case 0xC2...0xDF:
            guard let c1 = cont(1) else { return nil }
            return Unicode.Scalar((UInt32(c0 & 0x1F) << 6) | c1).map { ($0, 2) }
        case 0xE0...0xEF:
            let lo: UInt8 = c0 == 0xE0 ? 0xA0 : 0x80, hi: UInt8 = c0 == 0xED ? 0x9F : 0xBF
            guard let c1 = cont(1, lo, hi), let c2 = cont(2) else { return nil }
            return Unicode.Scalar((UInt32(c0 & 0x0F) << 12) | (c1 << 6) | c2).map { ($0, 3) }
        case 0xF0...0xF4:
            let lo: UInt8 = c0 == 0xF0 ? 0x90 : 0x80, hi: UInt8 = c0 == 0xF4 ? 0x8F : 0xBF
            guard let c1 = cont(1, lo, hi), let c2 = cont(2), let c3 = cont(3) else { return nil }
            return Unicode.Scalar((UInt32(c0 & 0x07) << 18) | (c1 << 12) | (c2 << 6) | c3).map { ($0, 4) }
        default:
            return nil
        }
    }
}

extension String {
    /// Bytes as text, with the bytes that are not UTF-8 kept as escape scalars (see ``RawBytes``).
    public init(escapingInvalidUTF8 bytes: [UInt8]) { self = RawBytes.decode(bytes) }

    /// The bytes this text stands for: UTF-8, with escape scalars as their raw byte (see ``RawBytes``).
    public var escapedBytes: [UInt8] { RawBytes.encode(self) }
}
