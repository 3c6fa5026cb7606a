import Foundation
import Testing

/// The loopback test hosts started by `Tests/hosts/testhosts start`, described by its hosts.json.
///
/// Found through `SWANSIBLE_HOSTS` (the state directory) or `<repo>/.hosts`. When
/// `SWANSIBLE_REQUIRE_HOSTS=1` (CI, `Tests/run-tests`) a missing or dead host fails the tests;
/// otherwise tests that need hosts are skipped.
struct TestHosts: Decodable, Sendable {
    struct Host: Decodable, Sendable {
        var name: String
        var address: String
        var port: Int
    }
    struct User: Decodable, Sendable {
        var name: String
        var password: String
    }
    struct Users: Decodable, Sendable {
        var plain: User
        var sudopass: User
        var appliance: User
    }
    struct Keys: Decodable, Sendable {
        var ed25519: String
        var ecdsa: String
        var ed25519_passphrase: String
        var passphrase: String
        var rsa: String
    }
    struct Address: Decodable, Sendable {
        var address: String
        var port: Int
    }
    struct Faults: Decodable, Sendable {
        var refused: Address
        var silent: Address
        var blackhole: Address
    }
    struct Appliance: Decodable, Sendable {
        var name: String
        var address: String
        var port: Int
    }

    var hosts: [Host]
    var users: Users
    var keys: Keys
    var known_hosts: String
    var known_hosts_hashed: String
    var faults: Faults
    var appliance: Appliance

    static let repoRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }()

    static let required = ProcessInfo.processInfo.environment["SWANSIBLE_REQUIRE_HOSTS"] == "1"

    static let loaded: Result<TestHosts, any Error> = {
        let dir = ProcessInfo.processInfo.environment["SWANSIBLE_HOSTS"]
            ?? repoRoot.appendingPathComponent(".hosts").path
        let file = URL(fileURLWithPath: dir).appendingPathComponent("hosts.json")
        return Result {
            let data = try Data(contentsOf: file)
            return try JSONDecoder().decode(TestHosts.self, from: data)
        }
    }()

    static var available: Bool {
        if case .success = loaded { return true }
        return required  // required but missing: let the test run and fail loudly
    }

    /// The hosts, or a recorded failure explaining why there are none.
    static func get() throws -> TestHosts {
        switch loaded {
        case .success(let hosts): return hosts
        case .failure(let error):
            throw TestHostsMissing(
                message: "test hosts are required but not running (start them with Tests/hosts/testhosts start): \(error)")
        }
    }

    var first: Host { hosts[0] }
}

struct TestHostsMissing: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

extension Trait where Self == ConditionTrait {
    /// Runs the test when test hosts are up or required (then a missing host fails the test).
    static var needsHosts: Self {
        .enabled(if: TestHosts.available, "no test hosts (start them with Tests/hosts/testhosts start)")
    }
}
