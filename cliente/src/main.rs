//! The `cliente` binary: everything is in the library, [`cliente::principal`].

fn main() -> std::process::ExitCode {
    cliente::principal(std::env::args_os())
}
