import SwansibleData

/// Python's `random.Random` (MT19937 with CPython's seeding), so that `random(seed=…)` and `shuffle(seed=…)`
/// give the numbers ansible-core gives (`{{ 60 | random(seed=inventory_hostname) }}`).
struct PyRandom {
    private var mt = [UInt32](repeating: 0, count: 624)
    private var index = 625

    /// Seeds as `random.seed(a)` (version 2): a str is hashed with SHA-512 and used as a big integer.
    init(seed: Value) {
        var bytes: [UInt8]  // big-endian magnitude
        switch seed {
        case .string(let s), .unsafe(let s):
            let data = Array(s.utf8)
            bytes = data + Digest.sha512(data, outputWords: 8)
        case .int(let i):
            var m = i.magnitude
            bytes = []
            while m > 0 {
                bytes.insert(UInt8(m & 0xFF), at: 0)
                m >>= 8
            }
        case .bool(let b):
            bytes = b ? [1] : []
        case .float(let d):
            // Python hashes other types; integral floats hash like ints.
            var m = UInt64(Swift.abs(d.rounded(.towardZero)))
            bytes = []
            while m > 0 {
                bytes.insert(UInt8(m & 0xFF), at: 0)
                m >>= 8
            }
        default:
            bytes = Array(pyStr(seed).utf8)
        }
        // 32-bit words, least significant first.
        var key: [UInt32] = []
        var i = bytes.count
        while i > 0 {
            var w: UInt32 = 0
            let start = max(0, i - 4)
            for b in bytes[start..<i] { w = w << 8 | UInt32(b) }
            key.append(w)
            i = start
        }
        while key.count > 1 && key.last == 0 { key.removeLast() }
        if key.isEmpty { key = [0] }
        initByArray(key)
    }

    private mutating func initGenrand(_ s: UInt32) {
        mt[0] = s
        for i in 1..<624 {
            mt[i] = 1_812_433_253 &* (mt[i - 1] ^ (mt[i - 1] >> 30)) &+ UInt32(i)
        }
        index = 624
    }

    private mutating func initByArray(_ key: [UInt32]) {
        initGenrand(19_650_218)
        var i = 1
        var j = 0
        for _ in 0..<max(624, key.count) {
            mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) &* 1_664_525)) &+ key[j] &+ UInt32(j)
            i += 1
            j += 1
            if i >= 624 {
                mt[0] = mt[623]
                i = 1
            }
            if j >= key.count { j = 0 }
        }
        for _ in 0..<623 {
            mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) &* 1_566_083_941)) &- UInt32(i)
            i += 1
            if i >= 624 {
                mt[0] = mt[623]
                i = 1
            }
        }
        mt[0] = 0x8000_0000
    }

    mutating func next32() -> UInt32 {
        if index >= 624 {
            for k in 0..<624 {
                let y = (mt[k] & 0x8000_0000) | (mt[(k + 1) % 624] & 0x7FFF_FFFF)
                mt[k] = mt[(k + 397) % 624] ^ (y >> 1) ^ ((y & 1) != 0 ? 0x9908_B0DF : 0)
            }
            index = 0
        }
        var y = mt[index]
        index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C_5680
        y ^= (y << 15) & 0xEFC6_0000
        y ^= y >> 18
        return y
    }

    /// `getrandbits(k)` for k ≤ 64.
    mutating func bits(_ k: Int) -> UInt64 {
        if k <= 32 { return UInt64(next32() >> UInt32(32 - k)) }
        let low = UInt64(next32())
        let high = UInt64(next32() >> UInt32(64 - k))
        return high << 32 | low
    }

    /// `_randbelow(n)`.
    mutating func below(_ n: Int) -> Int {
        guard n > 0 else { return 0 }
        let k = Int.bitWidth - n.leadingZeroBitCount
        var r = bits(k)
        while r >= UInt64(n) { r = bits(k) }
        return Int(r)
    }

    /// `randrange(start, stop, step)`.
    mutating func randrange(_ start: Int, _ stop: Int, _ step: Int) throws(PyError) -> Int {
        let width = stop - start
        if step == 1 {
            guard width > 0 else { throw PyError("empty range for randrange() (\(start), \(stop), \(width))") }
            return start + below(width)
        }
        guard step != 0 else { throw PyError("zero step for randrange()") }
        let n = step > 0 ? (width + step - 1) / step : (width + step + 1) / step
        guard n > 0 else { throw PyError("empty range for randrange()") }
        return start + step * below(n)
    }

    mutating func shuffle<T>(_ items: inout [T]) {
        guard items.count > 1 else { return }
        for i in stride(from: items.count - 1, through: 1, by: -1) {
            items.swapAt(i, below(i + 1))
        }
    }
}
