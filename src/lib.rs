pub mod hocon;
