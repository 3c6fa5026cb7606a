extension KeyDecryption {
    /// Base64 (RFC 4648 §4, with padding) for the armour of OpenSSH key files.
    enum Base64 {
        private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

        /// Encodes `bytes`, with `=` padding and no line breaks.
        static func encode(_ bytes: [UInt8]) -> [UInt8] {
            var out: [UInt8] = []
            out.reserveCapacity((bytes.count + 2) / 3 * 4)
            var i = 0
            while i < bytes.count {
                let b0 = UInt32(bytes[i])
                let b1 = i + 1 < bytes.count ? UInt32(bytes[i + 1]) : 0
                let b2 = i + 2 < bytes.count ? UInt32(bytes[i + 2]) : 0
                let group = b0 << 16 | b1 << 8 | b2
                out.append(alphabet[Int(group >> 18)])
                out.append(alphabet[Int((group >> 12) & 63)])
                out.append(i + 1 < bytes.count ? alphabet[Int((group >> 6) & 63)] : UInt8(ascii: "="))
                out.append(i + 2 < bytes.count ? alphabet[Int(group & 63)] : UInt8(ascii: "="))
                i += 3
            }
            return out
        }

        /// Decodes `text`, skipping ASCII whitespace; nil for any other character outside the alphabet,
        /// misplaced `=` padding or a dangling character.
        static func decode(_ text: some Sequence<UInt8>) -> [UInt8]? {
            var out: [UInt8] = []
            var group: UInt32 = 0
            var count = 0
            var padding = 0
            for c in text {
                let value: UInt32
                switch c {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(c - UInt8(ascii: "A"))
                case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(c - UInt8(ascii: "a")) + 26
                case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(c - UInt8(ascii: "0")) + 52
                case UInt8(ascii: "+"): value = 62
                case UInt8(ascii: "/"): value = 63
                case UInt8(ascii: "="):
                    padding += 1
                    guard count >= 2, count + padding <= 4 else { return nil }
                    continue
                case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                    continue
                default:
                    return nil
                }
                guard padding == 0 else { return nil }
                group = group << 6 | value
                count += 1
                if count == 4 {
                    out.append(UInt8(group >> 16))
                    out.append(UInt8((group >> 8) & 0xff))
                    out.append(UInt8(group & 0xff))
                    group = 0
                    count = 0
                }
            }
            switch (count, padding) {
            case (0, 0):
                break
            case (2, 2), (2, 0):
                out.append(UInt8((group >> 4) & 0xff))
            case (3, 1), (3, 0):
                out.append(UInt8((group >> 10) & 0xff))
                out.append(UInt8((group >> 2) & 0xff))
            default:
                return nil
            }
            return out
        }
    }
}
