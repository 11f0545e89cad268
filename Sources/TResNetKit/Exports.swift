// The umbrella: one import for the whole toolkit.
@_exported import TResNetCheckpoint
@_exported import TResNetCore
@_exported import TResNetFormat
@_exported import TResNetImage
@_exported import TResNetModel
@_exported import TResNetRuntime
@_exported import TResNetZoo
@_exported import TResNetONNX
