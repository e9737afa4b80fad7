namespace Crm.Jobs.Privacy;

// One place a person's data can live (docs/PRIVACY.md): how an export lists its rows and
// how an erase deletes or redacts them. Both read the same parameters (PersonalDataStores),
// so an export taken before an erase lists every row the erase then touches. An erase of the
// ledger runs as the ledger prune role (LedgerPrune; docs/SECURITY.md#database-roles).
public sealed record PersonalDataStore(string Name, string ExportSql, string EraseSql, bool LedgerPrune = false);
