internal import CLibYAML
public import SwansibleData

/// How ``Value/yamlString(_:)`` writes YAML: the arguments of PyYAML's `yaml.dump` that ansible-core's
/// `to_yaml` / `to_nice_yaml` filters pass (and their users may add).
public struct YAMLDumpOptions: Sendable, Hashable {
    /// Spaces per level (libyaml accepts 2…9; nil is 2).
    public var indent: Int?
    /// The preferred line width (nil is 80).
    public var width: Int?
    /// `default_flow_style`: nil writes collections of scalars only in flow style (`[a, b]`), true writes
    /// every collection in flow style, false none.
    public var defaultFlowStyle: Bool?
    /// `sort_keys` (PyYAML sorts mapping keys unless told not to).
    public var sortKeys: Bool
    /// `allow_unicode`: write non-ASCII characters as they are rather than as escapes.
    public var allowUnicode: Bool
    /// `explicit_start` (`---`) and `explicit_end` (`...`).
    public var explicitStart: Bool
    public var explicitEnd: Bool

    public init(
        indent: Int? = nil, width: Int? = nil, defaultFlowStyle: Bool? = nil, sortKeys: Bool = true,
        allowUnicode: Bool = true, explicitStart: Bool = false, explicitEnd: Bool = false
    ) {
        self.indent = indent
        self.width = width
        self.defaultFlowStyle = defaultFlowStyle
        self.sortKeys = sortKeys
        self.allowUnicode = allowUnicode
        self.explicitStart = explicitStart
        self.explicitEnd = explicitEnd
    }

    /// The `to_yaml` filter's defaults.
    public static let toYAML = YAMLDumpOptions()
    /// The `to_nice_yaml` filter's defaults (`indent=4`, `default_flow_style=False`).
    public static let toNiceYAML = YAMLDumpOptions(indent: 4, defaultFlowStyle: false)
}

extension Value {
    /// The value as YAML, written as ansible-core's `to_yaml` (default options) or `to_nice_yaml`
    /// (``YAMLDumpOptions/toNiceYAML``) filters write it: PyYAML's safe representer (`None` as `null`,
    /// floats as `1.0e+17`, `.inf`, `.nan`) over libyaml's emitter, strings quoted when they would read back
    /// as something else (`'yes'`, `'123'`, `''`).
    public func yamlString(_ options: YAMLDumpOptions = .toYAML) -> String {
        let emitter = YAMLEmitter(options: options)
        emitter.emitDocument(self)
        return emitter.output
    }
}

extension YAML {
    /// ``SwansibleData/Value/yamlString(_:)``.
    public static func dump(_ value: Value, options: YAMLDumpOptions = .toYAML) -> String {
        value.yamlString(options)
    }
}

private final class OutputBuffer {
    var bytes: [UInt8] = []
}

/// libyaml's emitter fed with the events PyYAML's `CSafeDumper` would produce.
private final class YAMLEmitter {
    let options: YAMLDumpOptions
    let emitter: UnsafeMutablePointer<yaml_emitter_t>
    let event: UnsafeMutablePointer<yaml_event_t>
    let buffer = OutputBuffer()

    init(options: YAMLDumpOptions) {
        self.options = options
        emitter = .allocate(capacity: 1)
        event = .allocate(capacity: 1)
        guard yaml_emitter_initialize(emitter) != 0 else { fatalError("libyaml: out of memory") }
        yaml_emitter_set_output(
            emitter,
            { data, bytes, size in
                let buffer = Unmanaged<OutputBuffer>.fromOpaque(data!).takeUnretainedValue()
                buffer.bytes.append(contentsOf: UnsafeBufferPointer(start: bytes, count: size))
                return 1
            }, Unmanaged.passUnretained(buffer).toOpaque())
        yaml_emitter_set_unicode(emitter, options.allowUnicode ? 1 : 0)
        if let indent = options.indent { yaml_emitter_set_indent(emitter, Int32(clamping: indent)) }
        if let width = options.width { yaml_emitter_set_width(emitter, Int32(clamping: width)) }
    }

    deinit {
        yaml_emitter_delete(emitter)
        emitter.deallocate()
        event.deallocate()
    }

    var output: String { String(decoding: buffer.bytes, as: UTF8.self) }

    private func emit(_ initialized: Int32) {
        guard initialized != 0, yaml_emitter_emit(emitter, event) != 0 else {
            let problem = emitter.pointee.problem.map { String(cString: $0) } ?? "out of memory"
            fatalError("libyaml emitter: \(problem)")
        }
    }

    func emitDocument(_ value: Value) {
        emit(yaml_stream_start_event_initialize(event, YAML_UTF8_ENCODING))
        emit(yaml_document_start_event_initialize(event, nil, nil, nil, options.explicitStart ? 0 : 1))
        emitNode(value)
        emit(yaml_document_end_event_initialize(event, options.explicitEnd ? 0 : 1))
        emit(yaml_stream_end_event_initialize(event))
        _ = yaml_emitter_flush(emitter)
    }

    /// PyYAML's `represent_sequence`/`represent_mapping` choice: flow style when every child is a scalar,
    /// unless `default_flow_style` decides.
    private func flowStyle(_ children: some Sequence<Value>) -> Bool {
        if let fixed = options.defaultFlowStyle { return fixed }
        return children.allSatisfy { v in
            switch v {
            case .list, .dict: return false
            default: return true
            }
        }
    }

    private func emitNode(_ value: Value) {
        switch value {
        case .null: emitScalar("null", tag: TagKind.null)
        case .bool(let b): emitScalar(b ? "true" : "false", tag: TagKind.bool)
        case .int(let i): emitScalar(String(i), tag: TagKind.int)
        case .float(let d): emitScalar(representFloat(d), tag: TagKind.float)
        case .string(let s), .unsafe(let s): emitScalar(s, tag: TagKind.str)
        case .list(let items):
            let flow = flowStyle(items)
            TagKind.seq.string.withCString { tag in
                emit(
                    yaml_sequence_start_event_initialize(
                        event, nil, tag, 1, flow ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE))
            }
            for item in items { emitNode(item) }
            emit(yaml_sequence_end_event_initialize(event))
        case .dict(let dict):
            let flow = flowStyle(dict.values)
            TagKind.map.string.withCString { tag in
                emit(
                    yaml_mapping_start_event_initialize(
                        event, nil, tag, 1, flow ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE))
            }
            let keys = options.sortKeys ? dict.keys.sorted(by: Value.pythonStringLess) : Array(dict.keys)
            for key in keys {
                emitScalar(key, tag: TagKind.str)
                emitNode(dict[key]!)
            }
            emit(yaml_mapping_end_event_initialize(event))
        }
    }

    /// A scalar with PyYAML's implicit flags: plain when the text would resolve back to `tag`, quoted
    /// (without a tag) when a quoted scalar would, as PyYAML's serializer decides.
    private func emitScalar(_ text: String, tag kind: TagKind) {
        var text = text
        let plainImplicit: Int32 = resolveImplicit(text) == kind ? 1 : 0
        let quotedImplicit: Int32 = kind == .str ? 1 : 0
        let tag = kind.string
        text.withUTF8 { bytes in
            tag.withCString { tagPointer in
                tagPointer.withMemoryRebound(to: yaml_char_t.self, capacity: tag.utf8.count + 1) { tagChars in
                    emit(
                        yaml_scalar_event_initialize(
                            event, nil, tagChars, bytes.baseAddress ?? UnsafePointer(tagChars), Int32(bytes.count),
                            plainImplicit, quotedImplicit, YAML_PLAIN_SCALAR_STYLE))
                }
            }
        }
    }

    /// PyYAML's `represent_float`: `.nan`, `.inf`, `-.inf`, else `repr()` lower-cased with `.0` added
    /// before an exponent that has no point (`1e+17` → `1.0e+17`).
    private func representFloat(_ d: Double) -> String {
        if d.isNaN { return ".nan" }
        if d.isInfinite { return d < 0 ? "-.inf" : ".inf" }
        var text = pythonFloatRepr(d).lowercased()
        if !text.contains("."), let e = text.firstIndex(of: "e") {
            text.replaceSubrange(e..<text.index(after: e), with: ".0e")
        }
        return text
    }
}
