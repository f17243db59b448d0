// One compile reports every mistake in the table, each at its own token.
use statewright::state_machine;

#[state_machine(allow_unreachable, colour = blue)]
enum Job {
    #[to(Runing)]
    Queued,
    #[on(Stop => Done)]
    Running,
    #[terminal]
    #[to(Queued)]
    Done,
}

fn main() {}
