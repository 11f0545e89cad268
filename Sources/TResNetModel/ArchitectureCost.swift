import TResNetCore

/// Parameter count and multiply-accumulates of a configuration, computed by walking the layer tree.
///
/// STUB — the model branch replaces this body with the tree walk.
public enum ArchitectureCost {
    /// - Returns: learnable parameters (BN running statistics excluded) and MACs of convs + linear for one
    ///   `height`×`width` image.
    public static func of(_ configuration: TResNetConfiguration, height: Int = 224, width: Int = 224)
        -> (parameters: Int, macs: Int)
    {
        (0, 0)
    }
}
