// libFuzzer target: module argument parsing (`parse_kv`, `split_args`, shlex). Built by Tests/fuzz/run.
import SwansibleCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzArguments(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    _ = try? ArgumentSplitting.splitArgs(text)
    _ = try? ArgumentSplitting.parseKeyValues(text, checkRaw: true)
    _ = try? ArgumentSplitting.parseKeyValues(text, checkRaw: false)
    _ = try? ArgumentSplitting.shlexSplit(text)
    _ = ArgumentSplitting.unquote(text)
    return 0
}
