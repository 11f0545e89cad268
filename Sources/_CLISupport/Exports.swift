import TResNetRuntime
@_exported import ArgumentParser
@_exported import TResNetKit

extension ConvolutionBackend: ExpressibleByArgument {}
extension Precision: ExpressibleByArgument {}
