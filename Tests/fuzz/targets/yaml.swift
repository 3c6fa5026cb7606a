// libFuzzer target: the YAML loader (libyaml events → Ansible's constructor), every document of a stream,
// then the dumper on what loaded; and the same load with libyaml on a second thread (the pipeline large
// files take), which must give the same documents, warnings or error. Built by Tests/fuzz/run, never by
// `swift build`.
import SwansibleData
@testable import SwansibleYAML

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzYAML(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let values = try? YAML.loadAllValues(text: text, file: "fuzz.yml") {
        for value in values { _ = YAML.dump(value) }
    }
    _ = try? YAMLDocument.parseSingle(text, file: "fuzz.yml")
    let direct = outcome(text, pipelined: false)
    let threaded = outcome(text, pipelined: true)
    if direct != threaded { fatalError("pipelined load differs:\n\(direct)\n---\n\(threaded)") }
    return 0
}

private func outcome(_ text: String, pipelined: Bool) -> String {
    do {
        let documents = try Composer(text: text, file: "fuzz.yml", options: .ansible, pipelined: pipelined)
            .load(single: false)
        return documents.map { d in
            "\(d.root.mark) \(d.value.json(.compactSorted)) \(d.warnings.map(\.description))"
        }.joined(separator: "\n")
    } catch {
        return error.description
    }
}
