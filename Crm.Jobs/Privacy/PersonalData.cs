using System.Text.Json;

namespace Crm.Jobs.Privacy;

// An export: the phone it was taken for, when that phone was last erased (its tombstone),
// and every store's rows (PersonalDataStores), columns named as in the database.
public sealed record PersonalData(DateTime ExportedAt, string Phone, DateTime? ErasedAt, IReadOnlyDictionary<string, JsonElement> Stores);
