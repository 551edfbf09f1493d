// Written from VoucherHTTP.docc/openapi.json by .ci/openapi; a test checks that the two are
// the same.

/// The OpenAPI 3.1 document of the HTTP API, served at `/v1/openapi.json`.
public enum OpenAPIDocument {
  /// The document's text.
  public static let text = #"""
    {
      "components": {
        "responses": {
          "Problem": {
            "content": {
              "application/problem+json": {
                "schema": {
                  "$ref": "#/components/schemas/Problem"
                }
              }
            },
            "description": "An RFC 9457 problem."
          },
          "TooMany": {
            "content": {
              "application/problem+json": {
                "schema": {
                  "$ref": "#/components/schemas/Problem"
                }
              }
            },
            "description": "Too many wrong codes from this token or address.",
            "headers": {
              "Retry-After": {
                "schema": {
                  "type": "integer"
                }
              }
            }
          },
          "Unauthorized": {
            "content": {
              "application/problem+json": {
                "schema": {
                  "$ref": "#/components/schemas/Problem"
                }
              }
            },
            "description": "No token, a wrong one or a revoked one.",
            "headers": {
              "WWW-Authenticate": {
                "schema": {
                  "type": "string"
                }
              }
            }
          },
          "Unavailable": {
            "content": {
              "application/problem+json": {
                "schema": {
                  "$ref": "#/components/schemas/Problem"
                }
              }
            },
            "description": "The registry is busy or fenced.",
            "headers": {
              "Retry-After": {
                "schema": {
                  "type": "integer"
                }
              }
            }
          }
        },
        "schemas": {
          "ClaimBody": {
            "additionalProperties": false,
            "properties": {
              "profile": {
                "type": "string"
              }
            },
            "required": [
              "profile"
            ],
            "type": "object"
          },
          "Event": {
            "properties": {
              "event": {
                "type": "string"
              },
              "profile": {
                "type": "string"
              },
              "reason": {
                "type": "string"
              },
              "request": {
                "type": "string"
              },
              "store": {
                "type": "string"
              },
              "terminal": {
                "type": "string"
              },
              "time": {
                "type": "string"
              },
              "venue": {
                "type": "string"
              }
            },
            "type": "object"
          },
          "Health": {
            "properties": {
              "status": {
                "const": "ok",
                "type": "string"
              }
            },
            "required": [
              "status"
            ],
            "type": "object"
          },
          "Outcome": {
            "properties": {
              "campaign": {
                "type": "string"
              },
              "channel": {
                "type": "string"
              },
              "code": {
                "type": "string"
              },
              "events": {
                "items": {
                  "$ref": "#/components/schemas/Event"
                },
                "type": "array"
              },
              "input": {
                "type": "string"
              },
              "message": {
                "type": "string"
              },
              "prize": {
                "description": "A claim's prize: its name, or null when the code won none; never in any other answer.",
                "type": [
                  "string",
                  "null"
                ]
              },
              "profile": {
                "type": "string"
              },
              "reason": {
                "type": "string"
              },
              "replayed": {
                "type": "boolean"
              },
              "request": {
                "type": "string"
              },
              "serial": {
                "type": "integer"
              },
              "status": {
                "enum": [
                  "valid",
                  "redeemed",
                  "used-up",
                  "blocked",
                  "voided",
                  "not-redeemed",
                  "claimed",
                  "claimed-by-other",
                  "profile-limit",
                  "history",
                  "malformed",
                  "mistyped",
                  "forged",
                  "unknown-campaign",
                  "revoked-key",
                  "not-yet-valid",
                  "expired",
                  "wrong-venue"
                ],
                "type": "string"
              },
              "store": {
                "type": "string"
              },
              "suggestion": {
                "description": "For a mistyped code, the likely intended one: to till tokens only.",
                "type": "string"
              },
              "terminal": {
                "type": "string"
              },
              "time": {
                "type": "string"
              },
              "title": {
                "type": "string"
              },
              "until": {
                "description": "For profile-limit: when the period ends and the profile may redeem again (ISO 8601); null when the limit is for the whole campaign.",
                "type": [
                  "string",
                  "null"
                ]
              },
              "usesLeft": {
                "type": "integer"
              },
              "venue": {
                "type": "string"
              }
            },
            "required": [
              "status",
              "code",
              "input"
            ],
            "type": "object"
          },
          "Problem": {
            "properties": {
              "detail": {
                "type": "string"
              },
              "status": {
                "type": "integer"
              },
              "title": {
                "type": "string"
              },
              "type": {
                "type": "string"
              }
            },
            "required": [
              "type",
              "title",
              "status"
            ],
            "type": "object"
          },
          "RedeemBody": {
            "additionalProperties": false,
            "properties": {
              "online": {
                "description": "true for a web token (filled in when left out).",
                "type": "boolean"
              },
              "profile": {
                "description": "A pseudonymous CRM profile id (never an e-mail address or a phone number).",
                "type": "string"
              },
              "request": {
                "description": "The CLI's request id; give it or Idempotency-Key.",
                "type": "string"
              },
              "store": {
                "description": "A till token's own store (it is filled in when left out).",
                "type": "string"
              },
              "terminal": {
                "type": "string"
              }
            },
            "type": "object"
          },
          "VoidBody": {
            "additionalProperties": false,
            "properties": {
              "reason": {
                "type": "string"
              },
              "request": {
                "type": "string"
              }
            },
            "type": "object"
          }
        },
        "securitySchemes": {
          "bearer": {
            "description": "A secret printed once by `voucher tokens add NAME --scope till|web|crm`.",
            "scheme": "bearer",
            "type": "http"
          }
        }
      },
      "info": {
        "description": "Verify, redeem, void and claim voucher codes, read a code's history, reports and the event feed. Every route but health and this document needs `Authorization: Bearer TOKEN` (`voucher tokens add`). An answered code is 200 with the fields and status words of `voucher ... --format json`; errors of the request are RFC 9457 problems.",
        "title": "voucher HTTP API",
        "version": "1"
      },
      "openapi": "3.1.0",
      "paths": {
        "/v1/codes/{code}": {
          "get": {
            "operationId": "verify",
            "parameters": [
              {
                "description": "The code as typed or scanned (percent-encoded; spaces and dashes are ignored).",
                "in": "path",
                "name": "code",
                "required": true,
                "schema": {
                  "type": "string"
                }
              },
              {
                "description": "Check the campaign's venue rule.",
                "in": "query",
                "name": "at",
                "required": false,
                "schema": {
                  "enum": [
                    "store",
                    "online"
                  ],
                  "type": "string"
                }
              }
            ],
            "responses": {
              "200": {
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Outcome"
                    }
                  }
                },
                "description": "The code's state: valid, used-up, blocked, claimed-by-other, malformed, mistyped, forged, ..."
              },
              "400": {
                "$ref": "#/components/responses/Problem"
              },
              "401": {
                "$ref": "#/components/responses/Unauthorized"
              },
              "403": {
                "$ref": "#/components/responses/Problem"
              },
              "429": {
                "$ref": "#/components/responses/TooMany"
              },
              "500": {
                "$ref": "#/components/responses/Problem"
              },
              "503": {
                "$ref": "#/components/responses/Unavailable"
              }
            },
            "summary": "Verify a code, with the registry's state (till, web)."
          }
        },
        "/v1/codes/{code}/claim": {
          "post": {
            "operationId": "claim",
            "parameters": [
              {
                "description": "The code as typed or scanned (percent-encoded; spaces and dashes are ignored).",
                "in": "path",
                "name": "code",
                "required": true,
                "schema": {
                  "type": "string"
                }
              },
              {
                "description": "Makes a retry safe: the same key and body get the original answer (also after a restart), another body gets 422, a key in flight 409. Kept for a day.",
                "in": "header",
                "name": "Idempotency-Key",
                "required": false,
                "schema": {
                  "maxLength": 255,
                  "minLength": 1,
                  "type": "string"
                }
              }
            ],
            "requestBody": {
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/ClaimBody"
                  }
                }
              },
              "required": true
            },
            "responses": {
              "200": {
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Outcome"
                    }
                  }
                },
                "description": "claimed, claimed-by-other or profile-limit (the profile has claimed as many codes of the campaign as allowed)."
              },
              "400": {
                "$ref": "#/components/responses/Problem"
              },
              "401": {
                "$ref": "#/components/responses/Unauthorized"
              },
              "403": {
                "$ref": "#/components/responses/Problem"
              },
              "409": {
                "$ref": "#/components/responses/Problem"
              },
              "413": {
                "$ref": "#/components/responses/Problem"
              },
              "415": {
                "$ref": "#/components/responses/Problem"
              },
              "422": {
                "$ref": "#/components/responses/Problem"
              },
              "429": {
                "$ref": "#/components/responses/TooMany"
              },
              "500": {
                "$ref": "#/components/responses/Problem"
              },
              "503": {
                "$ref": "#/components/responses/Unavailable"
              }
            },
            "summary": "Link a code to a customer profile: an online registration (web)."
          }
        },
        "/v1/codes/{code}/history": {
          "get": {
            "operationId": "history",
            "parameters": [
              {
                "description": "The code as typed or scanned (percent-encoded; spaces and dashes are ignored).",
                "in": "path",
                "name": "code",
                "required": true,
                "schema": {
                  "type": "string"
                }
              }
            ],
            "responses": {
              "200": {
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Outcome"
                    }
                  }
                },
                "description": "status history with its events."
              },
              "400": {
                "$ref": "#/components/responses/Problem"
              },
              "401": {
                "$ref": "#/components/responses/Unauthorized"
              },
              "403": {
                "$ref": "#/components/responses/Problem"
              },
              "429": {
                "$ref": "#/components/responses/TooMany"
              },
              "500": {
                "$ref": "#/components/responses/Problem"
              },
              "503": {
                "$ref": "#/components/responses/Unavailable"
              }
            },
            "summary": "Every event of a code, oldest first (till)."
          }
        },
        "/v1/codes/{code}/redeem": {
          "post": {
            "operationId": "redeem",
            "parameters": [
              {
                "description": "The code as typed or scanned (percent-encoded; spaces and dashes are ignored).",
                "in": "path",
                "name": "code",
                "required": true,
                "schema": {
                  "type": "string"
                }
              },
              {
                "description": "Makes a retry safe: the same key and body get the original answer (also after a restart), another body gets 422, a key in flight 409. Kept for a day.",
                "in": "header",
                "name": "Idempotency-Key",
                "required": false,
                "schema": {
                  "maxLength": 255,
                  "minLength": 1,
                  "type": "string"
                }
              }
            ],
            "requestBody": {
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/RedeemBody"
                  }
                }
              },
              "required": false
            },
            "responses": {
              "200": {
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Outcome"
                    }
                  }
                },
                "description": "redeemed, used-up, blocked, claimed-by-other, profile-limit (with until), or why the code is not valid."
              },
              "400": {
                "$ref": "#/components/responses/Problem"
              },
              "401": {
                "$ref": "#/components/responses/Unauthorized"
              },
              "403": {
                "$ref": "#/components/responses/Problem"
              },
              "409": {
                "$ref": "#/components/responses/Problem"
              },
              "413": {
                "$ref": "#/components/responses/Problem"
              },
              "415": {
                "$ref": "#/components/responses/Problem"
              },
              "422": {
                "$ref": "#/components/responses/Problem"
              },
              "429": {
                "$ref": "#/components/responses/TooMany"
              },
              "500": {
                "$ref": "#/components/responses/Problem"
              },
              "503": {
                "$ref": "#/components/responses/Unavailable"
              }
            },
            "summary": "Redeem a code: a till in its own store, a web token online."
          }
        },
        "/v1/codes/{code}/void": {
          "post": {
            "operationId": "void",
            "parameters": [
              {
                "description": "The code as typed or scanned (percent-encoded; spaces and dashes are ignored).",
                "in": "path",
                "name": "code",
                "required": true,
                "schema": {
                  "type": "string"
                }
              },
              {
                "description": "Makes a retry safe: the same key and body get the original answer (also after a restart), another body gets 422, a key in flight 409. Kept for a day.",
                "in": "header",
                "name": "Idempotency-Key",
                "required": false,
                "schema": {
                  "maxLength": 255,
                  "minLength": 1,
                  "type": "string"
                }
              }
            ],
            "requestBody": {
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/VoidBody"
                  }
                }
              },
              "required": false
            },
            "responses": {
              "200": {
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Outcome"
                    }
                  }
                },
                "description": "voided or not-redeemed."
              },
              "400": {
                "$ref": "#/components/responses/Problem"
              },
              "401": {
                "$ref": "#/components/responses/Unauthorized"
              },
              "403": {
                "$ref": "#/components/responses/Problem"
              },
              "409": {
                "$ref": "#/components/responses/Problem"
              },
              "413": {
                "$ref": "#/components/responses/Problem"
              },
              "415": {
                "$ref": "#/components/responses/Problem"
              },
              "422": {
                "$ref": "#/components/responses/Problem"
              },
              "429": {
                "$ref": "#/components/responses/TooMany"
              },
              "500": {
                "$ref": "#/components/responses/Problem"
              },
              "503": {
                "$ref": "#/components/responses/Unavailable"
              }
            },
            "summary": "Undo the latest redemption of a code (till)."
          }
        },
        "/v1/events": {
          "get": {
            "operationId": "events",
            "parameters": [
              {
                "description": "The id of the last event read; events after it come.",
                "in": "query",
                "name": "after",
                "required": false,
                "schema": {
                  "minimum": 0,
                  "type": "integer"
                }
              },
              {
                "in": "query",
                "name": "limit",
                "required": false,
                "schema": {
                  "default": 1000,
                  "maximum": 10000,
                  "minimum": 1,
                  "type": "integer"
                }
              },
              {
                "description": "Seconds to wait for an event when there is none yet.",
                "in": "query",
                "name": "wait",
                "required": false,
                "schema": {
                  "default": 0,
                  "maximum": 60,
                  "minimum": 0,
                  "type": "integer"
                }
              }
            ],
            "responses": {
              "200": {
                "content": {
                  "application/jsonl": {
                    "schema": {
                      "type": "string"
                    }
                  }
                },
                "description": "One event per line, as `voucher export --format jsonl` writes them; the `Voucher-Cursor` header is the id to pass as `after` next.",
                "headers": {
                  "Voucher-Cursor": {
                    "schema": {
                      "type": "string"
                    }
                  }
                }
              },
              "400": {
                "$ref": "#/components/responses/Problem"
              },
              "401": {
                "$ref": "#/components/responses/Unauthorized"
              },
              "403": {
                "$ref": "#/components/responses/Problem"
              },
              "429": {
                "$ref": "#/components/responses/TooMany"
              },
              "500": {
                "$ref": "#/components/responses/Problem"
              },
              "503": {
                "$ref": "#/components/responses/Unavailable"
              }
            },
            "summary": "The event feed: the export as JSON Lines after a cursor, with long polling (crm)."
          }
        },
        "/v1/health": {
          "get": {
            "operationId": "health",
            "responses": {
              "200": {
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Health"
                    }
                  }
                },
                "description": "Up."
              }
            },
            "security": [],
            "summary": "Whether the server is up (no token)."
          }
        },
        "/v1/openapi.json": {
          "get": {
            "operationId": "openapi",
            "responses": {
              "200": {
                "content": {
                  "application/json": {
                    "schema": {
                      "type": "object"
                    }
                  }
                },
                "description": "The OpenAPI 3.1 document."
              }
            },
            "security": [],
            "summary": "This document (no token)."
          }
        },
        "/v1/report": {
          "get": {
            "operationId": "report",
            "parameters": [
              {
                "in": "query",
                "name": "campaign",
                "required": false,
                "schema": {
                  "type": "string"
                }
              },
              {
                "in": "query",
                "name": "by",
                "required": false,
                "schema": {
                  "enum": [
                    "channel",
                    "store",
                    "day",
                    "terminal",
                    "week",
                    "month"
                  ],
                  "type": "string"
                }
              },
              {
                "description": "YYYY-MM-DD or an ISO 8601 moment.",
                "in": "query",
                "name": "since",
                "required": false,
                "schema": {
                  "type": "string"
                }
              },
              {
                "in": "query",
                "name": "until",
                "required": false,
                "schema": {
                  "type": "string"
                }
              },
              {
                "in": "query",
                "name": "format",
                "required": false,
                "schema": {
                  "default": "json",
                  "enum": [
                    "json",
                    "csv",
                    "svg",
                    "html"
                  ],
                  "type": "string"
                }
              }
            ],
            "responses": {
              "200": {
                "content": {
                  "application/json": {
                    "schema": {
                      "type": "object"
                    }
                  },
                  "image/svg+xml": {
                    "schema": {
                      "type": "string"
                    }
                  },
                  "text/csv": {
                    "schema": {
                      "type": "string"
                    }
                  },
                  "text/html": {
                    "schema": {
                      "type": "string"
                    }
                  }
                },
                "description": "The report in the format asked."
              },
              "400": {
                "$ref": "#/components/responses/Problem"
              },
              "401": {
                "$ref": "#/components/responses/Unauthorized"
              },
              "403": {
                "$ref": "#/components/responses/Problem"
              },
              "429": {
                "$ref": "#/components/responses/TooMany"
              },
              "500": {
                "$ref": "#/components/responses/Problem"
              },
              "503": {
                "$ref": "#/components/responses/Unavailable"
              }
            },
            "summary": "The campaign report, as `voucher report` makes it (crm)."
          }
        }
      },
      "security": [
        {
          "bearer": []
        }
      ],
      "servers": [
        {
          "url": "/"
        }
      ]
    }

    """#
}
