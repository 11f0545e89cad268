/// Pickle opcodes (CPython `Lib/pickletools.py`), by byte value. Every byte a pickle stream can hold either is
/// one of these or is refused as unknown.
public enum PickleOpcode: UInt8, Sendable, CaseIterable {
    // protocol 0/1 text and basic forms
    case mark = 0x28  // (
    case stop = 0x2E  // .
    case pop = 0x30  // 0
    case popMark = 0x31  // 1
    case dup = 0x32  // 2
    case float = 0x46  // F  text
    case int = 0x49  // I  text
    case binInt = 0x4A  // J  i32
    case binInt1 = 0x4B  // K  u8
    case long = 0x4C  // L  text
    case binInt2 = 0x4D  // M  u16
    case none = 0x4E  // N
    case persID = 0x50  // P  text (refused)
    case binPersID = 0x51  // Q
    case reduce = 0x52  // R
    case string = 0x53  // S  text
    case binString = 0x54  // T  i32 length
    case shortBinString = 0x55  // U  u8 length
    case unicode = 0x56  // V  text
    case binUnicode = 0x58  // X  u32 length
    case appendItem = 0x61  // a
    case build = 0x62  // b
    case global = 0x63  // c  "module\nname\n"
    case dict = 0x64  // d
    case emptyDict = 0x7D  // }
    case appends = 0x65  // e
    case get = 0x67  // g  text
    case binGet = 0x68  // h  u8
    case inst = 0x69  // i  (refused)
    case longBinGet = 0x6A  // j  u32
    case list = 0x6C  // l
    case emptyList = 0x5D  // ]
    case obj = 0x6F  // o  (refused)
    case put = 0x70  // p  text
    case binPut = 0x71  // q  u8
    case longBinPut = 0x72  // r  u32
    case setItem = 0x73  // s
    case tuple = 0x74  // t
    case emptyTuple = 0x29  // )
    case setItems = 0x75  // u
    case binFloat = 0x47  // G  f64 big-endian
    // protocol 2
    case proto = 0x80
    case newObj = 0x81
    case ext1 = 0x82  // (refused)
    case ext2 = 0x83  // (refused)
    case ext4 = 0x84  // (refused)
    case tuple1 = 0x85
    case tuple2 = 0x86
    case tuple3 = 0x87
    case newTrue = 0x88
    case newFalse = 0x89
    case long1 = 0x8A
    case long4 = 0x8B
    // protocol 3
    case binBytes = 0x42  // B  u32 length
    case shortBinBytes = 0x43  // C  u8 length
    // protocol 4
    case shortBinUnicode = 0x8C
    case binUnicode8 = 0x8D
    case binBytes8 = 0x8E
    case emptySet = 0x8F
    case addItems = 0x90
    case frozenSet = 0x91
    case newObjEx = 0x92
    case stackGlobal = 0x93
    case memoize = 0x94
    case frame = 0x95
    // protocol 5
    case byteArray8 = 0x96
    case nextBuffer = 0x97  // (refused)
    case readonlyBuffer = 0x98  // (refused)

    /// The pickletools name (`BINUNICODE`, `STACK_GLOBAL`, …) for messages.
    public var name: String {
        switch self {
        case .mark: return "MARK"
        case .stop: return "STOP"
        case .pop: return "POP"
        case .popMark: return "POP_MARK"
        case .dup: return "DUP"
        case .float: return "FLOAT"
        case .int: return "INT"
        case .binInt: return "BININT"
        case .binInt1: return "BININT1"
        case .long: return "LONG"
        case .binInt2: return "BININT2"
        case .none: return "NONE"
        case .persID: return "PERSID"
        case .binPersID: return "BINPERSID"
        case .reduce: return "REDUCE"
        case .string: return "STRING"
        case .binString: return "BINSTRING"
        case .shortBinString: return "SHORT_BINSTRING"
        case .unicode: return "UNICODE"
        case .binUnicode: return "BINUNICODE"
        case .appendItem: return "APPEND"
        case .build: return "BUILD"
        case .global: return "GLOBAL"
        case .dict: return "DICT"
        case .emptyDict: return "EMPTY_DICT"
        case .appends: return "APPENDS"
        case .get: return "GET"
        case .binGet: return "BINGET"
        case .inst: return "INST"
        case .longBinGet: return "LONG_BINGET"
        case .list: return "LIST"
        case .emptyList: return "EMPTY_LIST"
        case .obj: return "OBJ"
        case .put: return "PUT"
        case .binPut: return "BINPUT"
        case .longBinPut: return "LONG_BINPUT"
        case .setItem: return "SETITEM"
        case .tuple: return "TUPLE"
        case .emptyTuple: return "EMPTY_TUPLE"
        case .setItems: return "SETITEMS"
        case .binFloat: return "BINFLOAT"
        case .proto: return "PROTO"
        case .newObj: return "NEWOBJ"
        case .ext1: return "EXT1"
        case .ext2: return "EXT2"
        case .ext4: return "EXT4"
        case .tuple1: return "TUPLE1"
        case .tuple2: return "TUPLE2"
        case .tuple3: return "TUPLE3"
        case .newTrue: return "NEWTRUE"
        case .newFalse: return "NEWFALSE"
        case .long1: return "LONG1"
        case .long4: return "LONG4"
        case .binBytes: return "BINBYTES"
        case .shortBinBytes: return "SHORT_BINBYTES"
        case .shortBinUnicode: return "SHORT_BINUNICODE"
        case .binUnicode8: return "BINUNICODE8"
        case .binBytes8: return "BINBYTES8"
        case .emptySet: return "EMPTY_SET"
        case .addItems: return "ADDITEMS"
        case .frozenSet: return "FROZENSET"
        case .newObjEx: return "NEWOBJ_EX"
        case .stackGlobal: return "STACK_GLOBAL"
        case .memoize: return "MEMOIZE"
        case .frame: return "FRAME"
        case .byteArray8: return "BYTEARRAY8"
        case .nextBuffer: return "NEXT_BUFFER"
        case .readonlyBuffer: return "READONLY_BUFFER"
        }
    }
}
