//! `cliente benchmark` (issue 13, in progress on this branch): the report writer is here —
//! statistics, speedups, CSV files and the generated reading ([`informe`]) and the charts
//! ([`graficos`]); the command that submits the matrix of jobs through the cluster and records
//! them is not written yet (/work/notas/plan-13.md).

pub mod graficos;
pub mod informe;
