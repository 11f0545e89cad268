/// Label set identifiers.
public enum LabelSet {
    /// `imagenet-1k` for 1000 classes, `imagenet-21k-miil` for 11221 (fall11 ImageNet-21K-P), empty otherwise.
    public static func id(numClasses: Int) -> String {
        switch numClasses {
        case 1000: return "imagenet-1k"
        case 11221: return "imagenet-21k-miil"
        default: return ""
        }
    }
}
