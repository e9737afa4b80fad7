using System.Text.Json;
using System.Text.Json.Serialization;

namespace Crm.Jobs.Data;

// Enums as their exact camelCase names ("completed", "statsOnly") and nothing else:
// System.Text.Json's own converter also reads "new,processing" as a combination of
// flags, which for these enums silently lands as some other value.
public sealed class StrictEnumConverter : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) => typeToConvert.IsEnum;

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter)Activator.CreateInstance(typeof(Converter<>).MakeGenericType(typeToConvert))!;

    private sealed class Converter<T> : JsonConverter<T> where T : struct, Enum
    {
        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType == JsonTokenType.String && EnumText.TryParse<T>(reader.GetString(), out var value))
                return value;
            throw new InvalidEnumValueException(EnumText.SqlList<T>());
        }

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) =>
            writer.WriteStringValue(EnumText.ToText(value));
    }
}
