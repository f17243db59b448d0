// The machine behind the runner's doc examples, included as hidden lines so
// each example shows only the call it documents.
use statewright::{state_machine, Cx, Handler, Runner, Step};

#[state_machine]
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
enum Door {
    #[initial]
    #[to(Open)]
    Closed,
    #[to(Closed)]
    Open,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
enum Push {
    Open,
    Close,
    Knock,
    Wait(std::time::Duration),
    Lock,
}

struct Doorman;

impl Handler for Doorman {
    type State = Door;
    type Event = Push;

    fn handle(&mut self, _: &Door, push: Push, cx: &mut Cx<Self>) -> Step<Door> {
        match push {
            Push::Open => Step::to(Door::Open),
            Push::Close => Step::to(Door::Closed),
            Push::Knock => Step::stay(),
            Push::Wait(after) => {
                cx.set_timeout(after, Push::Close);
                Step::stay()
            }
            Push::Lock => Step::reject("the door has no lock"),
        }
    }
}
