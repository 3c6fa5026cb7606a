import SwansibleData
import SwansibleYAML
import Testing

private let playbook = """
    - name: play
      hosts: all
      tasks:
        - name: "t1"
          debug:
            msg: !unsafe '{{ x }}'
          loop: [1, 2]
        - &anchor {a: 1}
        - *anchor
        - |
          block

    """

private func mark(_ line: Int, _ column: Int, _ file: String = "m.yml") -> SourceMark {
    SourceMark(file: file, line: line, column: column)
}

@Suite struct MarkTests {
    // Positions recorded from ansible-core's Origin tags: Tests/tools/record_yaml_marks.py.
    @Test func nestedNodesAndKeysKeepTheirPositions() throws {
        let root = try #require(try YAMLDocument.parseSingle(playbook, file: "m.yml")).root
        #expect(root.kind == .sequence)
        #expect(root.mark == mark(1, 1))
        let play = root.items[0]
        #expect(play.mark == mark(1, 3))
        #expect(play.pairs.map(\.key.mark) == [mark(1, 3), mark(2, 3), mark(3, 3)])
        #expect(play["name"]?.mark == mark(1, 9))
        #expect(play["hosts"]?.mark == mark(2, 10))
        let tasks = try #require(play["tasks"])
        #expect(tasks.mark == mark(4, 5))
        let task = tasks.items[0]
        #expect(task.mark == mark(4, 7))
        #expect(task.pair(forKey: "name")?.key.mark == mark(4, 7))
        #expect(task["name"]?.mark == mark(4, 13))
        #expect(task.pair(forKey: "debug")?.key.mark == mark(5, 7))
        let debug = try #require(task["debug"])
        #expect(debug.mark == mark(6, 9))
        #expect(debug.pair(forKey: "msg")?.key.mark == mark(6, 9))
        #expect(debug["msg"]?.mark == mark(6, 14))
        #expect(debug["msg"]?.tag == "!unsafe")
        #expect(debug["msg"]?.value == .unsafe("{{ x }}"))
        let loop = try #require(task["loop"])
        #expect(loop.isFlow)
        #expect(loop.mark == mark(7, 13))
        #expect(loop.items.map(\.mark) == [mark(7, 14), mark(7, 17)])
        // An alias is the anchored node itself, marked where the anchor is.
        #expect(tasks.items[1] === tasks.items[2])
        #expect(tasks.items[1].mark == mark(8, 7))
        #expect(tasks.items[1].anchor == "anchor")
        #expect(tasks.items[1].pairs[0].key.mark == mark(8, 16))
        #expect(tasks.items[3].mark == mark(10, 7))
        #expect(tasks.items[3].style == .literal)
        #expect(tasks.items[3].value == "block\n")
        #expect(task.keys == ["name", "debug", "loop"])
    }

    @Test func scalarNodesKeepTextStyleAndResolvedTag() throws {
        let root = try #require(try YAMLDocument.parseSingle("a: '0644'\nb: 0644\nc: !!str 1\n", file: "t.yml")).root
        #expect(root["a"]?.style == .singleQuoted)
        #expect(root["a"]?.resolvedTag == "tag:yaml.org,2002:str")
        #expect(root["b"]?.text == "0644")
        #expect(root["b"]?.resolvedTag == "tag:yaml.org,2002:int")
        #expect(root["b"]?.value == 420)
        #expect(root["c"]?.tag == "tag:yaml.org,2002:str")
        #expect(root["c"]?.value == .string("1"))
    }

    @Test func mergedEntriesKeepTheirOriginalMarks() throws {
        let text = "base: &b\n  x: 1\nm:\n  <<: *b\n  y: 2\n"
        let root = try #require(try YAMLDocument.parseSingle(text, file: "t.yml")).root
        let m = try #require(root["m"])
        #expect(m.keys == ["x", "y"])
        #expect(m.pairs[0].key.mark == mark(2, 3, "t.yml"))
        #expect(m.pairs[1].key.mark == mark(5, 3, "t.yml"))
    }
}

@Suite struct StreamTests {
    @Test func multipleDocuments() throws {
        let docs = try YAMLDocument.parse("a: 1\n---\n- b\n...\n---\n", file: "s.yml")
        #expect(docs.count == 3)
        #expect(docs[0].value == ["a": 1])
        #expect(docs[1].value == ["b"])
        #expect(docs[1].root.mark == mark(3, 1, "s.yml"))
        #expect(docs[2].value == nil)
        #expect(try YAML.loadAllValues(text: "1\n--- 2\n", file: "s.yml") == [1, 2])
    }

    @Test func emptyStream() throws {
        #expect(try YAMLDocument.parse("", file: "e.yml").isEmpty)
        #expect(try YAMLDocument.parse("# only a comment\n", file: "e.yml").isEmpty)
        #expect(try YAMLDocument.parseSingle("", file: "e.yml") == nil)
        #expect(try YAML.loadValue(text: "", file: "e.yml") == nil)
    }

    @Test func anchorsDoNotCrossDocuments() {
        #expect(throws: YAMLError.self) { try YAMLDocument.parse("a: &x 1\n---\nb: *x\n", file: "s.yml") }
    }

    @Test func aSecondDocumentIsAnErrorForSingleLoads() {
        do {
            _ = try YAMLDocument.parseSingle("a: !!int x\n---\nb: 2\n", file: "s.yml")
            Issue.record("loaded")
        } catch {
            // PyYAML composes the stream before constructing: the second document wins over the bad int.
            #expect(
                error.message
                    == "YAML parsing failed: Expected a single document in the stream but found another document.")
            #expect(error.mark == mark(2, 1, "s.yml"))
        }
    }

    @Test func laterSyntaxErrorsWinOverConstructionErrors() {
        do {
            _ = try YAML.loadValue(text: "a: !!int x\nb: [1\n", file: "s.yml")
            Issue.record("loaded")
        } catch {
            #expect(error.message.hasPrefix("YAML parsing failed: While parsing a flow sequence"))
        }
    }
}

@Suite struct AnsibleTagTests {
    @Test func unsafeMarksEveryStringInside() throws {
        let value = try YAML.loadValue(text: "a: !unsafe {b: ['{{ c }}', 1, {d: e}]}\nf: '{{ g }}'\n", file: "t.yml")
        guard case .dict(let d) = value, case .dict(let a) = d["a"]!, case .list(let b) = a["b"]! else {
            Issue.record("shape: \(value)")
            return
        }
        #expect(b[0].isUnsafe)
        #expect(b[1] == 1)
        #expect(b[2]["d"]?.isUnsafe == true)
        #expect(d["f"]?.isUnsafe == false)
    }

    @Test func untrustedTextIsUnsafeThroughout() throws {
        let value = try YAML.loadValue(text: "a: [b, {c: d}]", file: "t.yml", options: .init(trusted: false))
        #expect(value["a"]?.listValue?[0].isUnsafe == true)
        #expect(value["a"]?.listValue?[1]["c"]?.isUnsafe == true)
    }

    @Test func vaultIsRefused() {
        let text = "user: bob\npassword: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\n"
        do {
            _ = try YAML.loadValue(text: text, file: "vars.yml")
            Issue.record("loaded")
        } catch {
            #expect(error.mark == mark(2, 11, "vars.yml"))
            #expect(error.message == "vault-encrypted values (!vault) are not supported by swansible")
            #expect(
                error.description == """
                    vars.yml:2:11: error: vault-encrypted values (!vault) are not supported by swansible
                    password: !vault |
                              ^
                    """)
        }
    }

    @Test func fromYAMLFilterKnowsNoAnsibleTags() {
        do {
            _ = try YAML.loadValue(text: "a: !unsafe b\n", file: "t.yml", options: .fromYAMLFilter)
            Issue.record("loaded")
        } catch {
            #expect(error.message == "YAML parsing failed: Could not determine a constructor for the tag '!unsafe'.")
        }
    }
}

@Suite struct DuplicateKeyTests {
    @Test func warningDescriptionIsCompilerStyle() throws {
        let doc = try #require(try YAMLDocument.parseSingle("vars:\n  a: 1\n  a: 2\n", file: "p.yml"))
        #expect(doc.value == ["vars": ["a": 2]])
        #expect(
            doc.warnings.map(\.description) == [
                """
                p.yml:3:3: warning: Found duplicate mapping key 'a'. Using last defined value only.
                  a: 2
                  ^
                """
            ])
    }

    /// Keys Python keeps apart but that are spelled the same as strings (`1` and `'1'`, a date and its text)
    /// are one key of the value: the later value at the place of the first.
    @Test func keysSpelledAlikeMergeInTheValue() throws {
        for (text, expected) in [
            ("{1: a, b: x, '1': c}", Value.dict(["1": "c", "b": "x"])),
            ("{2001-01-01: a, '2001-01-01': b, z: 1}", ["2001-01-01": "b", "z": 1]),
            ("{!!binary YWI=: a, ab: b}", ["ab": "b"]),
            ("{null: 1, 'null': 2, true: 3, 'true': 4}", ["null": 2, "true": 4]),
            ("{a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9, j: 10, k: 11, l: 12, m: 13, n: 14, o: 15, p: 16, q: 17}",
             .dict(ValueDict(uniqueKeysWithValues: "abcdefghijklmnopq".enumerated().map { (String($1), Value.int($0 + 1)) }))),
        ] {
            let doc = try #require(try YAMLDocument.parseSingle(text, file: "p.yml"))
            #expect(doc.value == expected, "\(text)")
            #expect(Array(doc.value.dictValue?.keys ?? []) == Array(expected.dictValue?.keys ?? []), "\(text)")
        }
    }

    @Test func errorAndIgnoreModes() throws {
        do {
            _ = try YAML.loadValue(text: "a: 1\na: 2\n", file: "p.yml", options: .init(duplicateKeys: .error))
            Issue.record("loaded")
        } catch {
            #expect(error.message == "YAML parsing failed: Found duplicate mapping key 'a'.")
            #expect(error.mark == mark(2, 1, "p.yml"))
        }
        let doc = try #require(
            try YAMLDocument.parseSingle("a: 1\na: 2\n", file: "p.yml", options: .init(duplicateKeys: .ignore)))
        #expect(doc.warnings.isEmpty)
        #expect(doc.value == ["a": 2])
    }

    @Test func pairsHoldTheFirstKeyAndTheLastValue() throws {
        let root = try #require(try YAMLDocument.parseSingle("a: 1\nb: 2\na: 3\n", file: "p.yml")).root
        #expect(root.pairs.count == 2)
        #expect(root.pairs[0].key.mark == mark(1, 1, "p.yml"))
        #expect(root.pairs[0].value.mark == mark(3, 4, "p.yml"))
    }
}

@Suite struct ErrorFormatTests {
    @Test func descriptionHasMarkMessageLineAndCaret() {
        let text = "- hosts: localhost\n  tasks:\n    - debug: msg=hi\n   - debug: msg=x\n"
        do {
            _ = try YAML.loadValue(text: text, file: "site.yml")
            Issue.record("loaded")
        } catch {
            #expect(
                error.description == """
                    site.yml:4:4: error: YAML parsing failed: While parsing a block mapping did not find expected key.
                       - debug: msg=x
                       ^
                    """)
        }
    }

    @Test func hintsCarryAnsibleHelp() {
        do {
            _ = try YAML.loadValue(text: "- debug:\n    msg: {{ x }}\n", file: "site.yml")
            Issue.record("loaded")
        } catch {
            #expect(
                error.description == """
                    site.yml:2:10: error: YAML parsing failed: This may be an issue with missing quotes around a \
                    template block.
                        msg: {{ x }}
                             ^
                    For example:

                        raw: {{ some_var }}

                    Should be:

                        raw: "{{ some_var }}"
                    """)
        }
    }

    @Test func errorAtEndOfFileHasNoSourceLine() {
        do {
            _ = try YAML.loadValue(text: "a: \"open\n", file: "e.yml")
            Issue.record("loaded")
        } catch {
            #expect(error.mark == mark(2, 1, "e.yml"))
            #expect(error.sourceLine == nil)
            #expect(
                error.description
                    == "e.yml:2:1: error: YAML parsing failed: While scanning a quoted scalar found unexpected end "
                    + "of stream.")
        }
    }
}

@Suite struct AliasTests {
    @Test func billionLaughsIsRefused() {
        var text = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for i in 1...9 {
            let refs = Array(repeating: "*a\(i - 1)", count: 9).joined(separator: ", ")
            text += "a\(i): &a\(i) [\(refs)]\n"
        }
        do {
            _ = try YAML.loadValue(text: text, file: "bomb.yml")
            Issue.record("loaded")
        } catch {
            #expect(error.message.contains("alias bomb"))
            #expect(error.mark.line == 8)
        }
    }

    @Test func sharedAliasesWithinTheCapLoad() throws {
        var text = "a0: &a0 [x, y]\n"
        for i in 1...5 {
            text += "a\(i): &a\(i) [*a\(i - 1), *a\(i - 1), *a\(i - 1)]\n"
        }
        let value = try YAML.loadValue(text: text, file: "ok.yml")
        #expect(value["a5"]?.listValue?.count == 3)
        #expect(value["a1"] == [["x", "y"], ["x", "y"], ["x", "y"]])
    }

    @Test func recursiveAliasIsRefused() {
        do {
            _ = try YAML.loadValue(text: "a: &r [1, *r]\n", file: "r.yml")
            Issue.record("loaded")
        } catch {
            #expect(error.mark == mark(1, 11, "r.yml"))
            #expect(error.message.contains("recursive alias *r"))
        }
    }
}
