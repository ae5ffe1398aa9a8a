// The room's language as a labelled <select>.
import { LANGUAGES } from "../editor/languages";

/** Control returned by `createLanguagePicker`. */
export interface LanguagePicker {
  /** Shows `id` without calling `onChange` (for changes made by someone else). */
  set(id: string): void;
  setDisabled(disabled: boolean): void;
}

let pickerCount = 0;

function option(id: string, name: string): HTMLOptionElement {
  const element = document.createElement("option");
  element.value = id;
  element.textContent = name;
  return element;
}

/** Appends a "Language" picker to `parent`; `onChange` runs when the user picks one. */
export function createLanguagePicker(parent: HTMLElement, current: string, onChange: (id: string) => void): LanguagePicker {
  const wrapper = document.createElement("div");
  wrapper.className = "pl-language-picker";
  const select = document.createElement("select");
  select.id = `pl-language-${++pickerCount}`;
  select.dataset.testid = "language-picker";
  const label = document.createElement("label");
  label.htmlFor = select.id;
  label.textContent = "Language";
  for (const { id, name } of LANGUAGES) select.appendChild(option(id, name));

  const set = (id: string): void => {
    if (![...select.options].some((o) => o.value === id)) select.appendChild(option(id, id));
    select.value = id;
  };
  set(current);
  select.addEventListener("change", () => onChange(select.value));
  wrapper.append(label, select);
  parent.appendChild(wrapper);
  return {
    set,
    setDisabled(disabled) {
      select.disabled = disabled;
    },
  };
}
