using Npgsql;

namespace Crm.Jobs.Webhooks;

// The secrets a message is signed with: the subscription's, and after a rotation the previous
// one beside it until it expires (docs/WEBHOOKS.md). Delivery and replay read them alike.
internal static class WebhookSigning
{
    // Two columns of a `webhooks` row as of @now: the secret, and the previous one while it signs.
    public const string SecretsSql = "w.secret, CASE WHEN w.previous_secret_expires_at > @now THEN w.previous_secret END";

    // The secrets from those two columns, the first at `ordinal`.
    public static string[] Secrets(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal + 1) ? [reader.GetString(ordinal)] : [reader.GetString(ordinal), reader.GetString(ordinal + 1)];
}
