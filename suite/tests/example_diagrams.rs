//! What `statewright diagram` prints (the CLI reads the source with the
//! macro's own parser) equals the consts the macro generated, for every
//! example machine. Here rather than beside the examples' tests: it needs
//! the macro's engine as a library, which the examples do not.

#[allow(dead_code)]
#[path = "../../examples/network_runner.rs"]
mod network_runner;

#[allow(dead_code)]
#[path = "../../examples/recorder.rs"]
mod recorder;

#[allow(dead_code)]
#[path = "../../examples/run_instance.rs"]
mod run_instance;

#[allow(dead_code)]
#[path = "../../examples/worker.rs"]
mod worker;

#[allow(dead_code)]
#[path = "../../examples/workflow.rs"]
mod workflow;

#[test]
fn the_cli_reads_the_diagrams_the_macro_writes() {
    let machines = [
        (
            "examples/network_runner.rs",
            network_runner::Network::MERMAID,
            network_runner::Network::DOT,
        ),
        (
            "examples/recorder.rs",
            recorder::Council::MERMAID,
            recorder::Council::DOT,
        ),
        (
            "examples/run_instance.rs",
            run_instance::RunState::MERMAID,
            run_instance::RunState::DOT,
        ),
        (
            "examples/worker.rs",
            worker::Worker::MERMAID,
            worker::Worker::DOT,
        ),
        (
            "examples/workflow.rs",
            workflow::Workflow::MERMAID,
            workflow::Workflow::DOT,
        ),
    ];
    for (file, mermaid, dot) in machines {
        let source = std::fs::read_to_string(std::path::Path::new("..").join(file)).unwrap();
        let found = statewright_codegen::find_machines(&source).unwrap();
        assert_eq!(found.len(), 1, "{file}");
        let table = found[0].table.as_ref().expect("no table errors");
        assert_eq!(table.mermaid, mermaid, "{file}");
        assert_eq!(table.dot, dot, "{file}");
    }
}
