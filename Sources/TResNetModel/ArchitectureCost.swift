import TResNetCore

/// Parameter count and multiply-accumulates of a configuration, computed by walking the layer tree.
///
/// MACs count what `torch.utils.flop_counter.FlopCounterMode` counts (divided by 2): every convolution —
/// including the SE 1×1 convs on the pooled vector and the fixed depthwise blur-pool filter — and the linear
/// head (or the ML-Decoder head's matrix products). Pooling, BatchNorm, LayerNorm, softmax and activations are
/// not counted.
public enum ArchitectureCost {
    /// - Returns: learnable parameters (BN running statistics excluded) and MACs of convs + linear for one
    ///   `height`×`width` image.
    public static func of(_ configuration: TResNetConfiguration, height: Int = 224, width: Int = 224)
        -> (parameters: Int, macs: Int)
    {
        let model = TResNet(configuration)
        let parameters = model.listing.filter { $0.role == .parameter }.reduce(0) { $0 + $1.elementCount }
        return (parameters, macs(model, height: height, width: width))
    }

    static func macs(_ model: TResNet, height: Int, width: Int) -> Int {
        func conv(_ c: ConvNormAct, _ h: Int, _ w: Int) -> Int {
            c.outChannels * c.inChannels * c.kernel * c.kernel * h * w
        }
        func half(_ n: Int) -> Int { (n + 1) / 2 }
        var h = height / 4, w = width / 4
        var total = conv(model.body.conv1, h, w)
        for blocks in model.body.stages {
            for block in blocks {
                let (oh, ow) = block.stride == 2 ? (half(h), half(w)) : (h, w)
                if let p = block.downsample { total += p.pooled ? conv(p.conv, oh, ow) : conv(p.conv, h, w) }
                // the conv carrying the blur pool runs at the input size; the blur pool halves it
                let blurred = block.blockKind == .basic ? block.conv1 : block.conv2
                total += conv(block.conv1, h, w)
                total += block.blockKind == .basic ? conv(block.conv2, oh, ow) : conv(block.conv2, h, w)
                if blurred.antiAliased { total += blurred.outChannels * 9 * oh * ow }
                if let se = block.se { total += 2 * se.channels * se.reduction }
                if let c3 = block.conv3 { total += conv(c3, oh, ow) }
                (h, w) = (oh, ow)
            }
        }
        if let head = model.mlDecoder {
            // ML-Decoder (matrix products only): token embedding; per layer the Q/K/V and output projections,
            // QKᵀ and the weighted sum over the tokens, the feed-forward block; then the group FC.
            let d = head.decoder, c = d.configuration, tokens = h * w, g = c.groups, e = c.embedDim
            total += tokens * d.embedStandart.inFeatures * e
            total +=
                c.decoderLayers
                * (2 * g * e * e + 2 * tokens * e * e + 2 * g * tokens * e + 2 * g * e * c.feedForwardDim)
            total += g * e * c.duplicateFactor
            return total
        }
        total += model.head.fc.inFeatures * model.head.fc.outFeatures
        return total
    }
}
