import Foundation
@testable import SwansibleCore
import SwansibleSSH

/// A real SSH connection seen through a module's `HostConnection`: everything passes through; tests subclass it to
/// watch or cut what `exec` does.
class ForwardingConnection: HostConnection, @unchecked Sendable {
    let base: SSHConnection

    init(base: SSHConnection) { self.base = base }

    func exec(_ command: String, input: ExecInput, timeout: Duration?, become: BecomeSpec?, environment: [(String, String)])
        async throws(SSHError) -> ExecResult {
        try await base.exec(command, input: input, timeout: timeout, become: become, environment: environment)
    }

    func writeFile(_ data: ExecInput, to path: String, mode: UInt32, become: BecomeSpec?) async throws(SSHError) {
        try await base.writeFile(data, to: path, mode: mode, become: become)
    }

    func readFile(_ path: String, become: BecomeSpec?) async throws(SSHError) -> [UInt8] {
        try await base.readFile(path, become: become)
    }

    func close() async { await base.close() }
}
