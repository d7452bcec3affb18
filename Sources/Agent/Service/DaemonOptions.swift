// What `outpostd`'s command line may override.
import Config

public struct DaemonOptions: Sendable, Equatable {
    public var configPath: String
    /// A config file named on the command line must exist; the default one may be absent (built-in defaults).
    public var configPathExplicit: Bool
    public var socketPath: String?
    public var stateDirectory: String?
    /// `--store-key-file`, overriding [store] key_file.
    public var storeKeyFile: String?
    /// `--model NAME=PATH`, added to (or replacing same-named) [models.NAME] tables.
    public var models: [ModelConfig] = []

    public init(configPath: String? = nil, socketPath: String? = nil, stateDirectory: String? = nil) {
        self.configPath = configPath ?? Config.defaultPath
        self.configPathExplicit = configPath != nil
        self.socketPath = socketPath
        self.stateDirectory = stateDirectory
    }

    /// The configuration file with command-line overrides applied.
    func loadConfig() throws -> Config {
        var config = try Config.load(path: configPath, mustExist: configPathExplicit)
        if let socketPath { config.socketPath = socketPath }
        if let stateDirectory { config.stateDirectory = stateDirectory }
        if let storeKeyFile { config.storeKeyFile = storeKeyFile }
        for model in models {
            config.models.removeAll { $0.name == model.name }
            config.models.append(model)
        }
        return config
    }
}
