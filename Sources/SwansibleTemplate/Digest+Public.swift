/// A hex digest of `data` with the algorithm `hashlib.new` would name (`md5`, `sha1`, `sha256`, …), or nil for
/// an unknown name. For the file modules' checksums (copy, template, fetch compare these with the target's).
public func hexDigest(_ algorithm: String, _ data: [UInt8]) -> String? {
    Digest.compute(algorithm, data).map(Digest.hex)
}
