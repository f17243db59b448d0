//! Names that once clashed or tripped lints expand warning-free: enums
//! that differ only in case, a non-ASCII enum, states named like the
//! typestate module's internals, and names with underscores.
#![deny(warnings, missing_docs, unused_qualifications)]

use statewright::state_machine;

/// One server.
#[state_machine]
#[derive(Debug)]
pub enum HTTPServer {
    /// Idle.
    #[initial]
    #[to(Done)]
    Idle,
    /// Done.
    #[terminal]
    Done,
}

/// Another server, whose hidden items once shared `HTTPServer`'s.
#[state_machine(module = http_server_two)]
#[derive(Debug)]
pub enum HttpServer {
    /// Idle.
    #[initial]
    #[to(Done)]
    Idle,
    /// Done.
    #[terminal]
    Done,
}

/// A state machine named in Chinese.
#[state_machine(module = zhuangtai)]
#[derive(Debug)]
pub enum 状态 {
    /// Idle.
    #[initial]
    #[to(完成)]
    空闲,
    /// Done.
    #[terminal]
    完成,
}

/// States named like what the typestate module declares for itself.
#[state_machine]
#[derive(Debug, Clone, PartialEq)]
pub enum Inner {
    /// Named like the module's import of the machine.
    #[initial]
    #[on(go_now => Type_)]
    __Machine(Box<Self>),
    /// Named like the module's trait.
    #[on(go => LegalEdge)]
    Type_,
    /// Done.
    #[terminal]
    LegalEdge,
}

/// A lowercase enum, with its lint allowed as the user chose.
#[state_machine(module = job_states)]
#[derive(Debug)]
#[allow(non_camel_case_types)]
pub enum job {
    /// Idle.
    #[initial]
    #[on(start => Done)]
    Idle,
    /// Done.
    #[terminal]
    Done,
}

fn main() {
    assert_eq!(HTTPServerKind::Idle.name(), "Idle");
    assert_eq!(HttpServerKind::Done.name(), "Done");
    assert_eq!(状态::空闲.kind(), 状态Kind::空闲);
    let _: zhuangtai::完成 = zhuangtai::空闲.to(zhuangtai::完成);
    let mut inner = Inner::__Machine(Box::new(Inner::Type_));
    assert!(inner.fire(InnerEvent::GoNow).is_ok());
    let _: inner::LegalEdge = inner::Type_.go();
    let mut lower = job::Idle;
    assert!(lower.fire(jobEvent::Start).is_ok());
    let _: job_states::Done = job_states::Idle.start();
}
