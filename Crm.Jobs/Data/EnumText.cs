using System.Text.Json;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Crm.Jobs.Data;

// Enums are stored as the same camelCase text the API speaks ('vip', 'statsOnly'),
// so SQL, JSON and check constraints all read alike.
public static class EnumText
{
    public static string ToText<T>(T value) where T : struct, Enum =>
        JsonNamingPolicy.CamelCase.ConvertName(value.ToString());

    public static T Parse<T>(string text) where T : struct, Enum =>
        Enum.Parse<T>(text, ignoreCase: true);

    public static bool TryParse<T>(string? text, out T value) where T : struct, Enum
    {
        foreach (var candidate in Enum.GetValues<T>())
        {
            if (ToText(candidate) == text)
            {
                value = candidate;
                return true;
            }
        }
        value = default;
        return false;
    }

    public static string SqlList<T>() where T : struct, Enum =>
        string.Join(", ", Enum.GetValues<T>().Select(v => $"'{ToText(v)}'"));

    public static ValueConverter<T, string> Converter<T>() where T : struct, Enum =>
        new(v => ToText(v), s => Parse<T>(s));
}
