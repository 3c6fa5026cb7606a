internal import CLibYAML
public import SwansibleData

/// The libyaml version this module is linked against.
public var libyamlVersion: String { String(cString: yaml_get_version_string()) }
