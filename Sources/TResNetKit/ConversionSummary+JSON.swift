import TResNetCore
import TResNetModel

/// `tresnet-convert --json` (docs/JSON.md): the summary's facts under snake_case keys, units in the keys.
extension ConversionSummary: Encodable {
    enum Key: String, CodingKey {
        case source, output, sourceFormat = "source_format", wrapper, strippedPrefix = "stripped_prefix", dialect
        case dialectDetected = "dialect_detected", architecture, outputKind = "output_kind", dtype, tensors
        case parameters, transformedWeights = "transformed_weights", dropped, ignored, bytesIn = "bytes_in"
        case bytesOut = "bytes_out", elapsed = "elapsed_s", dryRun = "dry_run", renamed, reading
    }

    enum ArchitectureKey: String, CodingKey {
        case configuration, variant, forced, forcedBy = "forced_by", explanation
    }

    enum RenameKey: String, CodingKey { case source, canonical }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(source, forKey: .source)
        try c.encode(output, forKey: .output)
        try c.encode(sourceFormat.rawValue, forKey: .sourceFormat)
        try c.encode(wrapper, forKey: .wrapper)
        try c.encode(strippedPrefix, forKey: .strippedPrefix)
        try c.encode(dialect, forKey: .dialect)
        try c.encode(dialectDetected, forKey: .dialectDetected)
        var a = c.nestedContainer(keyedBy: ArchitectureKey.self, forKey: .architecture)
        try a.encode(architecture.configuration.description, forKey: .configuration)
        try a.encode(architecture.displayName, forKey: .variant)
        try a.encode(architecture.forced, forKey: .forced)
        try a.encode(architecture.forced ? variantSource : nil, forKey: .forcedBy)
        try a.encode(architecture.explanation, forKey: .explanation)
        try c.encode(outputKind, forKey: .outputKind)
        try c.encode(dtype.rawValue, forKey: .dtype)
        try c.encode(tensors, forKey: .tensors)
        try c.encode(parameters, forKey: .parameters)
        try c.encode(transformedWeights, forKey: .transformedWeights)
        try c.encode(dropped, forKey: .dropped)
        try c.encode(ignored, forKey: .ignored)
        try c.encode(bytesIn, forKey: .bytesIn)
        try c.encode(bytesOut, forKey: .bytesOut)
        try c.encode(seconds, forKey: .elapsed)
        try c.encode(dryRun, forKey: .dryRun)
        var r = c.nestedUnkeyedContainer(forKey: .renamed)
        for rename in renamed {
            var e = r.nestedContainer(keyedBy: RenameKey.self)
            try e.encode(rename.source, forKey: .source)
            try e.encode(rename.canonical, forKey: .canonical)
        }
        try c.encode(reading, forKey: .reading)
    }
}
