// libFuzzer target: the INI and YAML inventory parsers (ansible-core's `ini` and `yaml` plugins).
// The first byte picks the parser; the rest is the file. Built by Tests/fuzz/run, never by `swift build`.
@testable import SwansibleCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzInventory(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    // The real limits (1,000,000 names, 32 MiB) make inputs whose ranges multiply out take seconds each; the
    // limit path is the same with smaller numbers.
    HostAddress.maximumExpandedHosts = 20_000
    HostAddress.maximumExpandedBytes = 1 << 20
    let text = String(decoding: UnsafeBufferPointer(start: data + 1, count: size - 1), as: UTF8.self)
    if data[0] & 1 == 0 {
        var parser = INIInventoryParser(inventory: InventoryData(), path: "fuzz.ini")
        try? parser.parse(text)
    } else {
        var warnings: [String] = []
        if let root = try? loadInventoryYAML(text: text, file: "fuzz.yml", warnings: &warnings) {
            var parser = YAMLInventoryParser(inventory: InventoryData(), path: "fuzz.yml")
            try? parser.parse(root)
        }
    }
    return 0
}
