using Crm.Jobs.Phones;
using FluentValidation;

namespace Crm.Jobs.Validation;

public static class TextRules
{
    // Tabs and line breaks are fine in free text; other control characters never are.
    public static IRuleBuilderOptions<T, string?> NoControlCharacters<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(s => s is null || !s.Any(c => char.IsControl(c) && c is not ('\n' or '\r' or '\t')))
            .WithMessage("'{PropertyName}' must not contain control characters.");

    // Names, phones, e-mails and cities are one line of printable text.
    public static IRuleBuilderOptions<T, string?> SingleLine<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(s => s is null || !s.Any(char.IsControl))
            .WithMessage("'{PropertyName}' must be a single line without control characters.");

    // A phone in any spelling PhoneNormalizer accepts (empty passes: required is a rule of its own).
    public static IRuleBuilderOptions<T, string?> PossiblePhone<T>(this IRuleBuilder<T, string?> rule, PhoneNormalizer phones) =>
        rule.Must(p => string.IsNullOrEmpty(p) || phones.Normalize(p) is not null)
            .WithMessage("Phone is not a possible phone number.");
}
