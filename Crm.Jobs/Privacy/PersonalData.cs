using System.Text.Json;

namespace Crm.Jobs.Privacy;

// An export: the phone it was taken for, every phone of the person (the customers' primary
// and other phones), when the phone was last erased (its tombstone), and every store's rows
// (PersonalDataStores), columns named as in the database.
public sealed record PersonalData(
    DateTime ExportedAt, string Phone, IReadOnlyList<string> Phones, DateTime? ErasedAt, IReadOnlyDictionary<string, JsonElement> Stores);
