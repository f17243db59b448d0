use statewright::state_machine;

// Fifty unknown targets are listed; the rest are counted in one error.
#[state_machine]
enum Job {
    #[initial]
    #[to(Gone0, Gone1, Gone2, Gone3, Gone4, Gone5, Gone6, Gone7, Gone8, Gone9, Gone10, Gone11, Gone12, Gone13, Gone14, Gone15, Gone16, Gone17, Gone18, Gone19, Gone20, Gone21, Gone22, Gone23, Gone24, Gone25, Gone26, Gone27, Gone28, Gone29, Gone30, Gone31, Gone32, Gone33, Gone34, Gone35, Gone36, Gone37, Gone38, Gone39, Gone40, Gone41, Gone42, Gone43, Gone44, Gone45, Gone46, Gone47, Gone48, Gone49, Gone50, Gone51)]
    Queued,
    #[terminal]
    Done,
}

fn main() {}
