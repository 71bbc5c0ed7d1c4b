//! The report on pairs of descriptions: each kind of change as an edit to one small description
//! and the lines expected, odd documents, and the workspace's own description.

use asapp_conversations_spec::{SPEC_FILE, Spec, workspace_root};
use serde_json::Value;

use super::diff;
use super::report::Change;

/// The description each case edits: requests and answers sharing `Kind` and `Owner`, a
/// `$ref` cycle through `Node`, errors through an `allOf` wrapper.
const BASE: &str = r#"
openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /items:
    get:
      operationId: listItems
      parameters:
        - $ref: '#/components/parameters/search'
        - name: limit
          in: query
          schema: {type: integer, format: int32, maximum: 100}
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/ItemList'}
        default:
          $ref: '#/components/responses/Problem'
    post:
      operationId: createItem
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/NewItem'}
      responses:
        '200':
          description: created
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Item'}
        '409':
          description: exists
        default:
          $ref: '#/components/responses/Problem'
  /items/{itemId}:
    parameters:
      - name: itemId
        in: path
        required: true
        schema: {$ref: '#/components/schemas/ItemId'}
    get:
      operationId: getItem
      responses:
        '200':
          description: found
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Item'}
        '404':
          $ref: '#/components/responses/Problem'
components:
  parameters:
    search:
      name: search
      in: query
      required: false
      schema: {type: string, maxLength: 64}
  responses:
    Problem:
      description: failure
      content:
        application/json:
          schema:
            description: The problem.
            allOf:
              - $ref: '#/components/schemas/Problem'
  schemas:
    ItemId: {type: string, pattern: '^[a-z0-9]+$'}
    Kind:
      type: string
      enum: [book, game]
    Status:
      type: string
      enum: [active, retired]
    Owner:
      type: object
      required: [id]
      properties:
        id: {type: string}
        email: {type: string}
    NewItem:
      type: object
      required: [name, kind]
      properties:
        name: {type: string, minLength: 1, maxLength: 50}
        kind: {$ref: '#/components/schemas/Kind'}
        owner: {$ref: '#/components/schemas/Owner'}
        note: {type: string}
        tags:
          type: array
          maxItems: 10
          items: {type: string}
    Item:
      type: object
      required: [id, name, kind, created]
      properties:
        id: {type: string}
        name: {type: string}
        kind: {$ref: '#/components/schemas/Kind'}
        owner: {$ref: '#/components/schemas/Owner'}
        status: {$ref: '#/components/schemas/Status'}
        created: {type: string, format: date-time}
        remark: {type: string, nullable: true}
        labels:
          type: array
          items: {type: string}
        attributes:
          type: object
          additionalProperties: {type: string}
        outline: {$ref: '#/components/schemas/Node'}
    Node:
      type: object
      required: [label]
      properties:
        label: {type: string}
        children:
          type: array
          items: {$ref: '#/components/schemas/Node'}
    ItemList:
      type: object
      properties:
        items:
          type: array
          items: {$ref: '#/components/schemas/Item'}
    Problem:
      type: object
      required: [message]
      properties:
        message: {type: string}
        code: {type: string}
"#;

/// Operations whose answers hold an `Item`.
const ITEM_ANSWERS: &str = "answer: createItem, getItem, listItems";

/// One kind of change: edits to [`BASE`] giving the base and the current description (each
/// `(text, replacement)` must match exactly once), and the report expected.
struct Case {
    name: &'static str,
    base: &'static [(&'static str, &'static str)],
    current: &'static [(&'static str, &'static str)],
    expected: &'static [&'static str],
}

const NONE: &[(&str, &str)] = &[];

/// `BASE` with `edits`, checked the way `cargo xtask regen` checks a description.
fn document(case: &str, edits: &[(&str, &str)]) -> Value {
    let mut text = BASE.to_owned();
    for (from, to) in edits {
        assert_eq!(
            text.matches(from).count(),
            1,
            "{case}: {from:?} must occur once"
        );
        text = text.replacen(from, to, 1);
    }
    let spec = Spec::from_yaml(&text, case).unwrap_or_else(|e| panic!("{case}: {e}"));
    spec.check().unwrap_or_else(|e| panic!("{case}: {e}"));
    spec.document().clone()
}

fn report(base: &Value, current: &Value) -> Vec<String> {
    diff(base, current).iter().map(Change::to_string).collect()
}

fn run(cases: &[Case]) {
    let mut failures = Vec::new();
    for case in cases {
        let base = document(case.name, case.base);
        let current = document(case.name, case.current);
        let expected: Vec<String> = case
            .expected
            .iter()
            .map(|line| line.replace("{ITEM_ANSWERS}", ITEM_ANSWERS))
            .collect();
        let actual = report(&base, &current);
        if actual != expected {
            failures.push(format!(
                "{}:\n  expected {expected:#?}\n  actual {actual:#?}",
                case.name
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn no_change_is_an_empty_report() {
    run(&[
        Case {
            name: "identical",
            base: NONE,
            current: NONE,
            expected: &[],
        },
        Case {
            name: "descriptions and examples only",
            base: NONE,
            current: &[
                ("description: found", "description: found it"),
                (
                    "label: {type: string}",
                    "label: {type: string, description: x, example: y}",
                ),
            ],
            expected: &[],
        },
        Case {
            name: "an allOf wrapper replaced by its reference",
            base: NONE,
            current: &[(
                "            description: The problem.\n            allOf:\n              - $ref: '#/components/schemas/Problem'\n",
                "            $ref: '#/components/schemas/Problem'\n",
            )],
            expected: &[],
        },
    ]);
}

#[test]
fn operations_added_removed_and_moved() {
    const DELETE: (&str, &str) = (
        "    get:\n      operationId: getItem\n",
        "    delete:\n      operationId: deleteItem\n      responses:\n        '204': {description: gone}\n    get:\n      operationId: getItem\n",
    );
    run(&[
        Case {
            name: "operation added",
            base: NONE,
            current: &[DELETE],
            expected: &[
                "additive: #/paths/~1items~1{itemId}/delete: operation `deleteItem` (DELETE /items/{itemId}) added",
            ],
        },
        Case {
            name: "operation removed",
            base: &[DELETE],
            current: NONE,
            expected: &[
                "breaking: #/paths/~1items~1{itemId}/delete: operation `deleteItem` (DELETE /items/{itemId}) removed",
            ],
        },
        Case {
            name: "operation moved to another path",
            base: NONE,
            current: &[("  /items/{itemId}:\n", "  /things/{itemId}:\n")],
            expected: &[
                "breaking: #/paths/~1things~1{itemId}/get: operation `getItem` moved from GET /items/{itemId} to GET /things/{itemId}",
            ],
        },
    ]);
}

#[test]
fn statuses_added_and_removed() {
    run(&[
        Case {
            name: "status added",
            base: NONE,
            current: &[(
                "        '409':\n",
                "        '422':\n          description: invalid\n        '409':\n",
            )],
            expected: &[
                "additive: #/paths/~1items/post/responses/422: status 422 added (answer: createItem)",
            ],
        },
        Case {
            name: "status removed",
            base: NONE,
            current: &[("        '409':\n          description: exists\n", "")],
            expected: &[
                "breaking: #/paths/~1items/post/responses/409: status 409 removed (answer: createItem)",
            ],
        },
        Case {
            name: "default removed",
            base: NONE,
            current: &[(
                "              schema: {$ref: '#/components/schemas/ItemList'}\n        default:\n          $ref: '#/components/responses/Problem'\n",
                "              schema: {$ref: '#/components/schemas/ItemList'}\n",
            )],
            expected: &[
                "breaking: #/paths/~1items/get/responses/default: status default removed (answer: listItems)",
            ],
        },
        Case {
            name: "success status changed",
            base: NONE,
            current: &[(
                "        '200':\n          description: found\n",
                "        '203':\n          description: found\n",
            )],
            expected: &[
                "breaking: #/paths/~1items~1{itemId}/get/responses/200: status 200 removed (answer: getItem)",
                "additive: #/paths/~1items~1{itemId}/get/responses/203: status 203 added (answer: getItem)",
            ],
        },
        Case {
            name: "answer body removed",
            base: NONE,
            current: &[(
                "          description: found\n          content:\n            application/json:\n              schema: {$ref: '#/components/schemas/Item'}\n",
                "          description: found\n",
            )],
            expected: &[
                "breaking: #/paths/~1items~1{itemId}/get/responses/200: schema removed (answer: getItem)",
            ],
        },
    ]);
}

#[test]
fn parameters() {
    const PAGE_OPTIONAL: (&str, &str) = (
        "          schema: {type: integer, format: int32, maximum: 100}\n",
        "          schema: {type: integer, format: int32, maximum: 100}\n        - {name: page, in: query, schema: {type: integer}}\n",
    );
    run(&[
        Case {
            name: "optional parameter added",
            base: NONE,
            current: &[PAGE_OPTIONAL],
            expected: &[
                "additive: #/paths/~1items/get/parameters/2: parameter `page` (query) added, optional (request: listItems)",
            ],
        },
        Case {
            name: "required parameter added",
            base: NONE,
            current: &[(
                "          schema: {type: integer, format: int32, maximum: 100}\n",
                "          schema: {type: integer, format: int32, maximum: 100}\n        - {name: page, in: query, required: true, schema: {type: integer}}\n",
            )],
            expected: &[
                "breaking: #/paths/~1items/get/parameters/2: parameter `page` (query) added, required (request: listItems)",
            ],
        },
        Case {
            name: "parameter removed",
            base: &[PAGE_OPTIONAL],
            current: NONE,
            expected: &[
                "breaking: #/paths/~1items/get/parameters/2: parameter `page` (query) removed (request: listItems)",
            ],
        },
        Case {
            name: "parameter made required",
            base: NONE,
            current: &[("      required: false\n", "      required: true\n")],
            expected: &[
                "breaking: #/components/parameters/search: parameter `search` (query) made required (request: listItems)",
            ],
        },
        Case {
            name: "parameter made optional",
            base: &[("      required: false\n", "      required: true\n")],
            current: NONE,
            expected: &[
                "additive: #/components/parameters/search: parameter `search` (query) made optional (request: listItems)",
            ],
        },
        Case {
            name: "parameter moved",
            base: NONE,
            current: &[(
                "      in: query\n      required: false\n",
                "      in: header\n      required: false\n",
            )],
            expected: &[
                "breaking: #/components/parameters/search: parameter `search` moved from query to header (request: listItems)",
            ],
        },
        Case {
            name: "parameter type changed",
            base: NONE,
            current: &[(
                "{type: integer, format: int32, maximum: 100}",
                "{type: string}",
            )],
            expected: &[
                "breaking: #/paths/~1items/get/parameters/1/schema/type: type changed from `integer` to `string` (request: listItems)",
            ],
        },
        Case {
            name: "parameter format changed",
            base: NONE,
            current: &[("format: int32, maximum: 100", "format: int64, maximum: 100")],
            expected: &[
                "breaking: #/paths/~1items/get/parameters/1/schema/format: format changed from `int32` to `int64` (request: listItems)",
            ],
        },
        Case {
            name: "path parameter pattern changed",
            base: NONE,
            current: &[("pattern: '^[a-z0-9]+$'", "pattern: '^[a-z]+$'")],
            expected: &[
                r#"breaking: #/components/schemas/ItemId/pattern: `pattern` changed from "^[a-z0-9]+$" to "^[a-z]+$" (request: getItem)"#,
            ],
        },
        Case {
            name: "parameter maximum raised",
            base: NONE,
            current: &[("maximum: 100}", "maximum: 500}")],
            expected: &[
                "additive: #/paths/~1items/get/parameters/1/schema/maximum: `maximum` changed from 100 to 500 (request: listItems)",
            ],
        },
        Case {
            name: "parameter maxLength removed",
            base: NONE,
            current: &[("{type: string, maxLength: 64}", "{type: string}")],
            expected: &[
                "additive: #/components/parameters/search/schema/maxLength: `maxLength: 64` removed (request: listItems)",
            ],
        },
    ]);
}

#[test]
fn request_bodies() {
    const OPTIONAL_BODY: (&str, &str) = (
        "      requestBody:\n        required: true\n",
        "      requestBody:\n        required: false\n",
    );
    run(&[
        Case {
            name: "request body made optional",
            base: NONE,
            current: &[OPTIONAL_BODY],
            expected: &[
                "additive: #/paths/~1items/post/requestBody: request body made optional (request: createItem)",
            ],
        },
        Case {
            name: "request body made required",
            base: &[OPTIONAL_BODY],
            current: NONE,
            expected: &[
                "breaking: #/paths/~1items/post/requestBody: request body made required (request: createItem)",
            ],
        },
        Case {
            name: "request body removed",
            base: NONE,
            current: &[(
                "      requestBody:\n        required: true\n        content:\n          application/json:\n            schema: {$ref: '#/components/schemas/NewItem'}\n",
                "",
            )],
            expected: &[
                "breaking: #/paths/~1items/post/requestBody: request body removed (request: createItem)",
            ],
        },
        Case {
            name: "optional request body added",
            base: NONE,
            current: &[(
                "      operationId: getItem\n",
                "      operationId: getItem\n      requestBody:\n        content:\n          application/json:\n            schema: {$ref: '#/components/schemas/NewItem'}\n",
            )],
            expected: &[
                "additive: #/paths/~1items~1{itemId}/get/requestBody: request body added, optional (request: getItem)",
            ],
        },
    ]);
}

#[test]
fn request_fields() {
    const COLOR: (&str, &str) = (
        "        note: {type: string}\n",
        "        note: {type: string}\n        color: {type: string}\n",
    );
    run(&[
        Case {
            name: "new optional request field",
            base: NONE,
            current: &[COLOR],
            expected: &[
                "additive: #/components/schemas/NewItem/properties/color: property `color` added, optional (request: createItem)",
            ],
        },
        Case {
            name: "new required request field",
            base: NONE,
            current: &[
                COLOR,
                ("required: [name, kind]", "required: [name, kind, color]"),
            ],
            expected: &[
                "breaking: #/components/schemas/NewItem/properties/color: property `color` added, required (request: createItem)",
            ],
        },
        Case {
            name: "request field removed",
            base: &[COLOR],
            current: NONE,
            expected: &[
                "breaking: #/components/schemas/NewItem/properties/color: property `color` removed (request: createItem)",
            ],
        },
        Case {
            name: "request field made required",
            base: NONE,
            current: &[("required: [name, kind]", "required: [name, kind, note]")],
            expected: &[
                "breaking: #/components/schemas/NewItem/properties/note: property `note` made required (request: createItem)",
            ],
        },
        Case {
            name: "request field made optional",
            base: NONE,
            current: &[("required: [name, kind]", "required: [name]")],
            expected: &[
                "additive: #/components/schemas/NewItem/properties/kind: property `kind` made optional (request: createItem)",
            ],
        },
        Case {
            name: "request field type changed",
            base: NONE,
            current: &[(
                "name: {type: string, minLength: 1, maxLength: 50}",
                "name: {type: integer}",
            )],
            expected: &[
                "breaking: #/components/schemas/NewItem/properties/name/type: type changed from `string` to `integer` (request: createItem)",
            ],
        },
        Case {
            name: "request constraints tightened",
            base: NONE,
            current: &[
                ("minLength: 1, maxLength: 50", "minLength: 2, maxLength: 40"),
                (
                    "          maxItems: 10\n",
                    "          minItems: 1\n          maxItems: 10\n",
                ),
            ],
            expected: &[
                "breaking: #/components/schemas/NewItem/properties/name/maxLength: `maxLength` changed from 50 to 40 (request: createItem)",
                "breaking: #/components/schemas/NewItem/properties/name/minLength: `minLength` changed from 1 to 2 (request: createItem)",
                "breaking: #/components/schemas/NewItem/properties/tags/minItems: `minItems: 1` added (request: createItem)",
            ],
        },
        Case {
            name: "request constraints loosened",
            base: NONE,
            current: &[
                ("minLength: 1, maxLength: 50", "maxLength: 80"),
                ("          maxItems: 10\n", ""),
            ],
            expected: &[
                "additive: #/components/schemas/NewItem/properties/name/maxLength: `maxLength` changed from 50 to 80 (request: createItem)",
                "additive: #/components/schemas/NewItem/properties/name/minLength: `minLength: 1` removed (request: createItem)",
                "additive: #/components/schemas/NewItem/properties/tags/maxItems: `maxItems: 10` removed (request: createItem)",
            ],
        },
        Case {
            name: "request field made nullable",
            base: NONE,
            current: &[(
                "note: {type: string}",
                "note: {type: string, nullable: true}",
            )],
            expected: &[
                "additive: #/components/schemas/NewItem/properties/note/nullable: made nullable (request: createItem)",
            ],
        },
        Case {
            name: "request field no longer nullable",
            base: &[(
                "note: {type: string}",
                "note: {type: string, nullable: true}",
            )],
            current: NONE,
            expected: &[
                "breaking: #/components/schemas/NewItem/properties/note/nullable: no longer nullable (request: createItem)",
            ],
        },
        Case {
            name: "request items walked",
            base: NONE,
            current: &[(
                "          maxItems: 10\n          items: {type: string}\n",
                "          maxItems: 10\n          items: {type: string, format: uuid}\n",
            )],
            expected: &[
                "breaking: #/components/schemas/NewItem/properties/tags/items/format: format `uuid` added (request: createItem)",
            ],
        },
    ]);
}

#[test]
fn answer_fields() {
    run(&[
        Case {
            name: "new answer field, required",
            base: NONE,
            current: &[
                (
                    "        id: {type: string}\n        name:",
                    "        id: {type: string}\n        size: {type: number}\n        name:",
                ),
                (
                    "required: [id, name, kind, created]",
                    "required: [id, name, kind, created, size]",
                ),
            ],
            expected: &[
                "additive: #/components/schemas/Item/properties/size: property `size` added, required ({ITEM_ANSWERS})",
            ],
        },
        Case {
            name: "answer field removed",
            base: NONE,
            current: &[
                ("        id: {type: string}\n        name:", "        name:"),
                (
                    "required: [id, name, kind, created]",
                    "required: [name, kind, created]",
                ),
            ],
            expected: &[
                "breaking: #/components/schemas/Item/properties/id: property `id` removed ({ITEM_ANSWERS})",
            ],
        },
        Case {
            name: "answer field made optional",
            base: NONE,
            current: &[(
                "required: [id, name, kind, created]",
                "required: [id, name, kind]",
            )],
            expected: &[
                "breaking: #/components/schemas/Item/properties/created: property `created` made optional ({ITEM_ANSWERS})",
            ],
        },
        Case {
            name: "answer field made required",
            base: NONE,
            current: &[(
                "required: [id, name, kind, created]",
                "required: [id, name, kind, created, status]",
            )],
            expected: &[
                "breaking: #/components/schemas/Item/properties/status: property `status` made required ({ITEM_ANSWERS})",
            ],
        },
        Case {
            name: "answer nullable field made required: an Option either way",
            base: NONE,
            current: &[(
                "required: [id, name, kind, created]",
                "required: [id, name, kind, created, remark]",
            )],
            expected: &[
                "additive: #/components/schemas/Item/properties/remark: property `remark` made required ({ITEM_ANSWERS})",
            ],
        },
        Case {
            name: "answer array made required: a Vec either way",
            base: NONE,
            current: &[(
                "required: [id, name, kind, created]",
                "required: [id, name, kind, created, labels]",
            )],
            expected: &[
                "additive: #/components/schemas/Item/properties/labels: property `labels` made required ({ITEM_ANSWERS})",
            ],
        },
        Case {
            name: "answer field type changed",
            base: NONE,
            current: &[(
                "        id: {type: string}\n        name:",
                "        id: {type: integer}\n        name:",
            )],
            expected: &[
                "breaking: #/components/schemas/Item/properties/id/type: type changed from `string` to `integer` ({ITEM_ANSWERS})",
            ],
        },
        Case {
            name: "answer field format changed",
            base: NONE,
            current: &[("format: date-time}", "format: date}")],
            expected: &[
                "breaking: #/components/schemas/Item/properties/created/format: format changed from `date-time` to `date` ({ITEM_ANSWERS})",
            ],
        },
        Case {
            name: "answer string gains a maxLength: String becomes a newtype",
            base: NONE,
            current: &[(
                "        id: {type: string}\n        name:",
                "        id: {type: string, maxLength: 40}\n        name:",
            )],
            expected: &[
                r#"breaking: #/components/schemas/Item/properties/id/maxLength: `maxLength: 40` added ({ITEM_ANSWERS})"#,
            ],
        },
        Case {
            name: "answer newtype gains a maxLength: the same newtype",
            base: &[(
                "        id: {type: string}\n        name:",
                "        id: {type: string, minLength: 1}\n        name:",
            )],
            current: &[(
                "        id: {type: string}\n        name:",
                "        id: {type: string, minLength: 1, maxLength: 40}\n        name:",
            )],
            expected: &[
                r#"additive: #/components/schemas/Item/properties/id/maxLength: `maxLength: 40` added ({ITEM_ANSWERS})"#,
            ],
        },
        Case {
            name: "answer date-time gains maxLength: still a DateTime",
            base: NONE,
            current: &[("format: date-time}", "format: date-time, maxLength: 40}")],
            expected: &[
                "additive: #/components/schemas/Item/properties/created/maxLength: `maxLength: 40` added ({ITEM_ANSWERS})",
            ],
        },
        Case {
            name: "answer integer gains minimum 0: still an i32",
            base: &[(
                "        name: {type: string}\n",
                "        name: {type: string}\n        count: {type: integer, format: int32}\n",
            )],
            current: &[(
                "        name: {type: string}\n",
                "        name: {type: string}\n        count: {type: integer, format: int32, minimum: 0}\n",
            )],
            expected: &[
                "additive: #/components/schemas/Item/properties/count/minimum: `minimum: 0` added ({ITEM_ANSWERS})",
            ],
        },
        Case {
            name: "answer integer gains minimum 1: becomes a NonZeroU32",
            base: &[(
                "        name: {type: string}\n",
                "        name: {type: string}\n        count: {type: integer, format: int32}\n",
            )],
            current: &[(
                "        name: {type: string}\n",
                "        name: {type: string}\n        count: {type: integer, format: int32, minimum: 1}\n",
            )],
            expected: &[
                "breaking: #/components/schemas/Item/properties/count/minimum: `minimum: 1` added ({ITEM_ANSWERS})",
            ],
        },
        Case {
            name: "optional answer field no longer nullable: an Option either way",
            base: NONE,
            current: &[(
                "remark: {type: string, nullable: true}",
                "remark: {type: string}",
            )],
            expected: &[
                "additive: #/components/schemas/Item/properties/remark/nullable: no longer nullable ({ITEM_ANSWERS})",
            ],
        },
        Case {
            name: "required answer field made nullable: T becomes Option<T>",
            base: NONE,
            current: &[(
                "        name: {type: string}\n        kind:",
                "        name: {type: string, nullable: true}\n        kind:",
            )],
            expected: &[
                "breaking: #/components/schemas/Item/properties/name/nullable: made nullable ({ITEM_ANSWERS})",
            ],
        },
        Case {
            name: "answer map values walked through additionalProperties",
            base: NONE,
            current: &[(
                "additionalProperties: {type: string}",
                "additionalProperties: {type: integer}",
            )],
            expected: &[
                "breaking: #/components/schemas/Item/properties/attributes/additionalProperties/type: type changed from `string` to `integer` ({ITEM_ANSWERS})",
            ],
        },
        Case {
            name: "answer items walked",
            base: NONE,
            current: &[(
                "          type: array\n          items: {type: string}\n",
                "          type: array\n          items: {type: string, format: uuid}\n",
            )],
            expected: &[
                "breaking: #/components/schemas/Item/properties/labels/items/format: format `uuid` added ({ITEM_ANSWERS})",
            ],
        },
        Case {
            name: "answer map gains its first property",
            base: &[
                (
                    "        name: {type: string}\n",
                    "        name: {type: string}\n        extra: {$ref: '#/components/schemas/Extra'}\n",
                ),
                ("    Node:\n", "    Extra: {type: object}\n    Node:\n"),
            ],
            current: &[
                (
                    "        name: {type: string}\n",
                    "        name: {type: string}\n        extra: {$ref: '#/components/schemas/Extra'}\n",
                ),
                (
                    "    Node:\n",
                    "    Extra: {type: object, properties: {a: {type: string}}}\n    Node:\n",
                ),
            ],
            expected: &[
                "breaking: #/components/schemas/Extra/properties: gains its first properties (`a`): the Rust type changes from a map to a struct ({ITEM_ANSWERS})",
            ],
        },
        Case {
            name: "error envelope walked through allOf",
            base: NONE,
            current: &[(
                "        message: {type: string}\n        code: {type: string}\n",
                "        message: {type: string}\n",
            )],
            expected: &[
                "breaking: #/components/schemas/Problem/properties/code: property `code` removed ({ITEM_ANSWERS})",
            ],
        },
    ]);
}

#[test]
fn enums() {
    run(&[
        Case {
            name: "new answer enum value",
            base: NONE,
            current: &[(
                "enum: [active, retired]",
                "enum: [active, retired, archived]",
            )],
            expected: &[
                "additive: #/components/schemas/Status/enum: value `archived` added ({ITEM_ANSWERS})",
            ],
        },
        Case {
            name: "answer enum value removed",
            base: NONE,
            current: &[("enum: [active, retired]", "enum: [active]")],
            expected: &[
                "breaking: #/components/schemas/Status/enum: value `retired` removed ({ITEM_ANSWERS})",
            ],
        },
        Case {
            name: "shared enum value added: request and answer, once",
            base: NONE,
            current: &[("enum: [book, game]", "enum: [book, game, toy]")],
            expected: &[
                "additive: #/components/schemas/Kind/enum: value `toy` added (request: createItem; {ITEM_ANSWERS})",
            ],
        },
        Case {
            name: "shared enum value removed",
            base: NONE,
            current: &[("enum: [book, game]", "enum: [book]")],
            expected: &[
                "breaking: #/components/schemas/Kind/enum: value `game` removed (request: createItem; {ITEM_ANSWERS})",
            ],
        },
        Case {
            name: "a free string becomes an enum",
            base: &[
                (
                    "        label: {type: string}\n",
                    "        label: {$ref: '#/components/schemas/Label'}\n",
                ),
                ("    Node:\n", "    Label: {type: string}\n    Node:\n"),
            ],
            current: &[
                (
                    "        label: {type: string}\n",
                    "        label: {$ref: '#/components/schemas/Label'}\n",
                ),
                (
                    "    Node:\n",
                    "    Label: {type: string, enum: [a, b]}\n    Node:\n",
                ),
            ],
            expected: &[
                "breaking: #/components/schemas/Label/enum: now restricted to `a`, `b` ({ITEM_ANSWERS})",
            ],
        },
    ]);
}

#[test]
fn shared_components_take_the_more_severe_class() {
    run(&[
        Case {
            name: "shared field made optional: additive to send, breaking to read",
            base: NONE,
            current: &[("      required: [id]\n", "      required: []\n")],
            expected: &[
                "breaking: #/components/schemas/Owner/properties/id: property `id` made optional (request: createItem; {ITEM_ANSWERS})",
            ],
        },
        Case {
            name: "shared field added, required: breaking to send, additive to read",
            base: NONE,
            current: &[
                (
                    "        email: {type: string}\n",
                    "        email: {type: string}\n        team: {type: string}\n",
                ),
                ("      required: [id]\n", "      required: [id, team]\n"),
            ],
            expected: &[
                "breaking: #/components/schemas/Owner/properties/team: property `team` added, required (request: createItem; {ITEM_ANSWERS})",
            ],
        },
        Case {
            name: "shared field added, optional: additive both ways",
            base: NONE,
            current: &[(
                "        email: {type: string}\n",
                "        email: {type: string}\n        team: {type: string}\n",
            )],
            expected: &[
                "additive: #/components/schemas/Owner/properties/team: property `team` added, optional (request: createItem; {ITEM_ANSWERS})",
            ],
        },
    ]);
}

#[test]
fn references() {
    const DETAILS: (&str, &str) = (
        "    ItemList:\n",
        "    ItemDetails:\n      allOf:\n        - $ref: '#/components/schemas/Item'\n        - type: object\n          properties:\n            history: {type: array, items: {type: string}}\n    ItemList:\n",
    );
    run(&[
        Case {
            name: "a $ref cycle ends, and a change inside it is reported once",
            base: NONE,
            current: &[(
                "        label: {type: string}\n",
                "        label: {type: string}\n        weight: {type: number}\n",
            )],
            expected: &[
                "additive: #/components/schemas/Node/properties/weight: property `weight` added, optional ({ITEM_ANSWERS})",
            ],
        },
        Case {
            name: "success schema changed to a related one: the field differences",
            base: &[DETAILS],
            current: &[
                DETAILS,
                (
                    "          description: found\n          content:\n            application/json:\n              schema: {$ref: '#/components/schemas/Item'}\n",
                    "          description: found\n          content:\n            application/json:\n              schema: {$ref: '#/components/schemas/ItemDetails'}\n",
                ),
            ],
            expected: &[
                "additive: #/components/schemas/ItemDetails/allOf/1/properties/history: property `history` added, optional (answer: getItem)",
                "breaking: #/paths/~1items~1{itemId}/get/responses/200/content/application~1json/schema: now `#/components/schemas/ItemDetails` instead of `#/components/schemas/Item`: the Rust type changes (answer: getItem)",
            ],
        },
        Case {
            name: "success schema replaced by an unrelated one",
            base: NONE,
            current: &[(
                "          description: found\n          content:\n            application/json:\n              schema: {$ref: '#/components/schemas/Item'}\n",
                "          description: found\n          content:\n            application/json:\n              schema: {$ref: '#/components/schemas/Problem'}\n",
            )],
            expected: &[
                "breaking: #/paths/~1items~1{itemId}/get/responses/200/content/application~1json/schema: replaced by an unrelated schema, with no property in common (answer: getItem)",
            ],
        },
        Case {
            name: "component schema added",
            base: NONE,
            current: &[DETAILS],
            expected: &["additive: #/components/schemas/ItemDetails: schema `ItemDetails` added"],
        },
        Case {
            name: "component schema removed",
            base: &[DETAILS],
            current: NONE,
            expected: &[
                "breaking: #/components/schemas/ItemDetails: schema `ItemDetails` removed, and its generated type with it",
            ],
        },
    ]);
}

#[test]
fn a_reference_cycle_of_allof_ends() {
    let cyclic = |extra: &str| {
        serde_json::json!({
            "openapi": "3.0.3",
            "paths": {"/a": {"get": {"operationId": "getA", "responses": {"200": {
                "description": "ok",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}}}
            }}}}},
            "components": {"schemas": {
                "A": {"allOf": [{"$ref": "#/components/schemas/B"}], "properties": {"a": {"$ref": "#/components/schemas/A"}}},
                "B": {"allOf": [{"$ref": "#/components/schemas/A"}], "properties": {extra: {"type": "string"}}},
                "Loop": {"$ref": "#/components/schemas/Loop"}
            }}
        })
    };
    assert_eq!(
        report(&cyclic("b"), &cyclic("c")),
        [
            "breaking: #/components/schemas/B/properties/b: property `b` removed (answer: getA)",
            "additive: #/components/schemas/B/properties/c: property `c` added, optional (answer: getA)",
        ]
    );
}

#[test]
fn documents_that_are_not_descriptions_give_no_panic() {
    let odd = [
        serde_json::json!(null),
        serde_json::json!({"paths": []}),
        serde_json::json!({"paths": {"/a": {"get": {"parameters": [1, {"name": 2}], "responses": []}}}}),
        serde_json::json!({"paths": {"/a": {"$ref": "#/nowhere"}}, "components": {"schemas": 3}}),
    ];
    for base in &odd {
        for current in &odd {
            let _ = diff(base, current);
        }
    }
}

fn workspace_description() -> String {
    std::fs::read_to_string(workspace_root().join(SPEC_FILE)).unwrap()
}

fn workspace_document(text: &str) -> Value {
    Spec::from_yaml(text, SPEC_FILE).unwrap().document().clone()
}

#[test]
fn the_workspace_description_against_itself_is_empty() {
    let document = workspace_document(&workspace_description());
    assert_eq!(report(&document, &document), Vec::<String>::new());
}

#[test]
fn a_new_participant_role_is_one_additive_line() {
    let text = workspace_description();
    let roles = "      enum:\n        - agent\n        - customer\n        - system\n";
    assert_eq!(text.matches(roles).count(), 1);
    let edited = text.replacen(roles, &format!("{roles}        - virtual_agent\n"), 1);
    assert_eq!(
        report(&workspace_document(&text), &workspace_document(&edited)),
        [
            "additive: #/components/schemas/ParticipantRole/enum: value `virtual_agent` added \
             (request: createBatchMessages, createMessage; \
             answer: getMessage, getMessages, getMessagesByExternalId)"
        ]
    );
}
