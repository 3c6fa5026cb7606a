// libFuzzer target: the YAML loader (libyaml events → Ansible's constructor), every document of a stream,
// then the dumper on what loaded. Built by Tests/fuzz/run, never by `swift build`.
import SwansibleData
import SwansibleYAML

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzYAML(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let values = try? YAML.loadAllValues(text: text, file: "fuzz.yml") {
        for value in values { _ = YAML.dump(value) }
    }
    _ = try? YAMLDocument.parseSingle(text, file: "fuzz.yml")
    return 0
}
