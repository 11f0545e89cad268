/// Globals that are code-execution primitives. A pickle naming one of them is hostile even though this reader
/// would never call it: it is refused, naming the global and its offset, wherever it appears (called, passed as
/// an argument, stored as a value). docs/READERS.md lists the entries with the reason for each.
enum PickleDenylist {
    /// Whole modules (and their submodules): every name in them can run code, spawn processes, open files or
    /// sockets, or load another pickle.
    static let modules: [String: String] = [
        "os": "runs shell commands (system, popen, exec*, spawn*), writes and removes files",
        "posix": "os on POSIX: system, exec*, fork",
        "nt": "os on Windows: system, startfile, spawn*",
        "subprocess": "starts processes",
        "_posixsubprocess": "starts processes (fork_exec)",
        "pty": "spawns processes on a terminal",
        "socket": "opens network connections",
        "shutil": "copies, moves and removes file trees",
        "importlib": "imports arbitrary modules (running their code)",
        "runpy": "runs modules and scripts",
        "ctypes": "calls any C function in the process",
        "webbrowser": "opens URLs (runs a browser)",
        "sys": "reaches the interpreter (modules, settrace, exit)",
        "code": "interactive interpreter: runs source text",
        "codeop": "compiles source text",
        "pickle": "loads another pickle (its globals unchecked)",
        "_pickle": "loads another pickle",
        "cPickle": "loads another pickle (Python 2)",
        "marshal": "loads code objects",
        "shelve": "loads pickles from a database",
        "dill": "loads pickles that carry code",
        "cloudpickle": "loads pickles that carry code",
        "multiprocessing": "starts processes, unpickles from pipes",
        "asyncio": "starts subprocesses and network connections",
        "signal": "installs signal handlers",
        "pdb": "debugger: runs source text",
        "bdb": "debugger: runs source text",
        "timeit": "runs source text",
        "trace": "runs source text",
        "profile": "runs source text",
        "cProfile": "runs source text",
        "pydoc": "imports modules, starts a server",
        "urllib": "fetches URLs",
        "http": "opens network connections, starts servers",
        "ftplib": "opens network connections",
        "smtplib": "opens network connections",
        "telnetlib": "opens network connections",
        "requests": "fetches URLs",
        "io": "opens files (open, FileIO)",
        "_io": "opens files",
        "commands": "runs shell commands (Python 2)",
        "popen2": "starts processes (Python 2)",
        "torch.hub": "downloads and runs code from the network",
        "torch.serialization": "loads another (unchecked) checkpoint",
        "torch.jit": "loads TorchScript code",
        "torch.package": "imports packaged code",
        "torch.utils.cpp_extension": "compiles and loads C++ code",
        "numpy.lib.npyio": "numpy.load with allow_pickle loads pickles",
        "numpy.f2py": "compiles and runs Fortran",
        "joblib": "loads pickles",
        "pandas.io.pickle": "loads pickles"
    ]

    /// Single names in otherwise harmless modules.
    static let names: [String: String] = [
        "builtins.eval": "evaluates source text",
        "builtins.exec": "runs source text",
        "builtins.compile": "compiles source text to code",
        "builtins.getattr": "reaches any attribute (os.system from a module object, …)",
        "builtins.setattr": "rewrites any attribute",
        "builtins.delattr": "removes any attribute",
        "builtins.__import__": "imports any module",
        "builtins.open": "opens files",
        "builtins.input": "reads the terminal",
        "builtins.breakpoint": "starts a debugger",
        "builtins.globals": "reaches the module namespace",
        "builtins.locals": "reaches the frame namespace",
        "builtins.vars": "reaches any namespace",
        "builtins.memoryview": "raw memory access",
        "builtins.help": "starts the help system (pager process)",
        "builtins.exit": "ends the process",
        "builtins.quit": "ends the process",
        "__builtin__.eval": "evaluates source text (Python 2)",
        "__builtin__.exec": "runs source text (Python 2)",
        "__builtin__.execfile": "runs a file (Python 2)",
        "__builtin__.compile": "compiles source text (Python 2)",
        "__builtin__.getattr": "reaches any attribute (Python 2)",
        "__builtin__.setattr": "rewrites any attribute (Python 2)",
        "__builtin__.__import__": "imports any module (Python 2)",
        "__builtin__.open": "opens files (Python 2)",
        "__builtin__.file": "opens files (Python 2)",
        "__builtin__.apply": "calls any callable (Python 2)",
        "__builtin__.input": "evaluates terminal input (Python 2)",
        "__builtin__.reload": "re-imports modules (Python 2)",
        "types.CodeType": "builds code objects",
        "types.FunctionType": "builds functions from code objects",
        "types.LambdaType": "builds functions from code objects",
        "types.MethodType": "binds callables to objects",
        "types.ModuleType": "builds modules",
        "functools.partial": "wraps a callable with arguments for a later call",
        "functools.reduce": "calls a callable repeatedly",
        "operator.attrgetter": "reaches any attribute",
        "operator.methodcaller": "calls any method",
        "operator.getitem": "reaches into any container or module dict",
        "torch.load": "loads another (unchecked) checkpoint",
        "torch.ops.load_library": "loads a shared library",
        "torch._C._load_for_lite_interpreter": "loads TorchScript code",
        "torch._C.import_ir_module": "loads TorchScript code",
        "torch.storage._load_from_bytes": "torch.load on embedded bytes",
        "torch._load_global_deps": "loads shared libraries",
        "numpy.load": "with allow_pickle loads pickles",
        "numpy.loadtxt": "reads files",
        "numpy.fromfile": "reads files",
        "numpy.memmap": "maps files",
        "numpy.testing._private.utils.runstring": "runs source text",
        "pandas.read_pickle": "loads pickles",
        "yaml.load": "with the full loader builds arbitrary objects",
        "yaml.unsafe_load": "builds arbitrary objects"
    ]

    /// The reason `module.name` is refused, nil when it is not a code-execution primitive.
    static func reason(module: String, name: String) -> String? {
        if let r = names[module + "." + name] { return r }
        var m = module[...]
        while true {
            if let r = modules[String(m)] { return r }
            guard let dot = m.lastIndex(of: ".") else { return nil }
            m = m[..<dot]
        }
    }
}
